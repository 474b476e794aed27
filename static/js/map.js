/* The home map: issues for the visible box from the viewport endpoint (clusters when zoomed out),
 * with the page's filters. The map's view lives in the query string (lat, lon, zoom and the box
 * it shows, bbox), so a view can be shared and the back button returns to the previous one; the
 * list beside the map is the server's list for that box (home ?fragment=list), swapped in as the
 * map moves. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var element = document.getElementById("map");
  if (!config || !element || !window.L) { return; }
  var status = document.getElementById("map-status");
  var strings = config.strings;
  var VIEW_KEYS = ["lat", "lon", "zoom", "bbox"];

  function fromHash() { // links made before the view moved into the query string
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(window.location.hash);
    return m ? { zoom: +m[1], center: [+m[2], +m[3]] } : null;
  }
  function fromQuery() {
    var q = new URLSearchParams(window.location.search);
    var lat = parseFloat(q.get("lat")), lon = parseFloat(q.get("lon")), zoom = parseInt(q.get("zoom"), 10);
    if (isNaN(lat) || isNaN(lon)) { return null; }
    return { center: [lat, lon], zoom: isNaN(zoom) ? config.zoom : zoom };
  }
  function boxOf(text) {
    var box = text && text.split(",").map(Number);
    return box && box.length === 4 && box.every(isFinite) ? [[box[1], box[0]], [box[3], box[2]]] : null;
  }

  var map = CivicMap.baseMap("map", config);
  var box = boxOf(config.filters && config.filters.bbox);
  var start = fromQuery() || fromHash();
  if (start) {
    map.setView(start.center, start.zoom);
  } else if (box) {
    map.fitBounds(box); // a list limited to one area (a dashboard's grid cell): show that area
  } else if (config.cityBounds) {
    map.fitBounds(boxOf(config.cityBounds.join(","))); // the first view: the whole city
  } else {
    map.setView(config.center, config.zoom);
  }
  var outlinesDrawn = CivicMap.addWards(map, config);
  window.CivicHomeMap = map; // the place search box (places.js) moves it
  var layer = L.layerGroup().addTo(map);
  var controller = null;
  var timer = null;

  var escapeHtml = CivicMap.escapeHtml;

  function popup(p) {
    return '<strong><a href="' + escapeHtml(p.url) + '">' + escapeHtml(p.service_name) + "</a></strong><br>" +
      escapeHtml(p.status_label) + " · " + escapeHtml(p.id) + (p.address ? "<br>" + escapeHtml(p.address) : "");
  }

  // A cluster is a ring cut into its statuses' shares (the server counts them per cell), with
  // the count in the middle: the mix shows at a glance, in the same colours as single issues.
  var STATUS_ORDER = ["open", "acknowledged", "in_progress", "closed", "archived"];
  var RING = 15.91549; // circumference 100: a share is its own dash length

  function clusterIcon(p, size) {
    var counts = p.statuses || {};
    var offset = 25; // start at twelve o'clock
    var arcs = STATUS_ORDER.filter(function (k) { return counts[k] > 0; }).map(function (k) {
      var share = 100 * counts[k] / p.count;
      var arc = '<circle cx="21" cy="21" r="' + RING + '" fill="none" stroke="' + CivicMap.STATUS_COLOURS[k] +
        '" stroke-width="7" stroke-dasharray="' + share.toFixed(3) + " " + (100 - share).toFixed(3) +
        '" stroke-dashoffset="' + offset.toFixed(3) + '"></circle>';
      offset -= share;
      return arc;
    });
    return '<div class="cluster-icon cluster-icon--mix" data-statuses="' + escapeHtml(JSON.stringify(counts)).replace(/"/g, "&quot;") + '">' +
      '<svg viewBox="0 0 42 42" width="' + size + '" height="' + size + '" aria-hidden="true" focusable="false">' +
      '<circle cx="21" cy="21" r="20" fill="#fff"></circle>' + arcs.join("") +
      '<circle cx="21" cy="21" r="11.5" fill="#fff"></circle>' +
      '<text x="21" y="21" text-anchor="middle" dominant-baseline="central" font-size="' + (p.count > 999 ? 9 : 12) +
      '" font-weight="700" fill="#1a1a1a">' + p.count + "</text></svg></div>";
  }

  function clusterLabel(p) {
    var counts = p.statuses || {};
    var parts = STATUS_ORDER.filter(function (k) { return counts[k] > 0; }).map(function (k) {
      return CivicMap.fill(strings.statusCount, { n: CivicMap.number(counts[k]), status: strings.statuses[k] });
    });
    var issues = CivicMap.plural(strings.issues, p.count);
    return parts.length ? CivicMap.fill(strings.clusterLabel, { issues: issues, statuses: parts.join(strings.listSeparator) }) : issues;
  }

  function draw(data) {
    layer.clearLayers();
    data.features.forEach(function (f) {
      var lon = f.geometry.coordinates[0], lat = f.geometry.coordinates[1];
      var p = f.properties;
      if (p.cluster) {
        var size = Math.min(60, 30 + Math.round(Math.log(p.count) * 6));
        var marker = L.marker([lat, lon], {
          icon: L.divIcon({ className: "", html: clusterIcon(p, size), iconSize: [size, size] }),
          title: clusterLabel(p) + " – " + strings.zoomIn,
          alt: clusterLabel(p),
          keyboard: true
        });
        marker.on("click keypress", function () {
          var b = p.bbox;
          map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: map.getZoom() + 3 });
        });
        marker.addTo(layer);
      } else {
        L.circleMarker([lat, lon], {
          radius: 8, weight: 2, color: "#fff", fillOpacity: 0.95,
          fillColor: CivicMap.STATUS_COLOURS[p.status] || "#0b5cad"
        }).bindPopup(popup(p)).addTo(layer);
      }
    });
    var count = data.properties ? data.properties.count : data.features.length;
    if (status && !element.classList.contains("map--no-tiles")) {
      status.textContent = CivicMap.plural(strings.issues, count);
    }
    element.setAttribute("data-loaded", data.features.length);
  }

  function load() {
    var b = map.getBounds();
    var params = new URLSearchParams(config.filters || {});
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","));
    params.set("zoom", map.getZoom());
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(config.viewportUrl + "?" + params.toString(), { signal: controller && controller.signal })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function (e) { if (e.name !== "AbortError" && status) { status.textContent = strings.loadFailed; } });
    remember(b);
  }

  // The view into the address bar: a new history entry for each move the person makes, so Back
  // returns to the previous view; the first view and a view restored by Back replace theirs.
  var restoring = true;
  function remember(b) {
    var c = map.getCenter();
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.delete("fragment");
    var view = {
      lat: c.lat.toFixed(5), lon: c.lng.toFixed(5), zoom: String(map.getZoom()),
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(5); }).join(",")
    };
    VIEW_KEYS.forEach(function (k) { params.set(k, view[k]); });
    var url = window.location.pathname + "?" + params.toString();
    if (url !== window.location.pathname + window.location.search) {
      history[restoring ? "replaceState" : "pushState"]({ civicMap: true }, "", url);
    }
    restoring = false;
    keepInForm(view);
    loadList(params);
  }

  // The filter form carries the view, so filtering keeps the map where the person left it.
  function keepInForm(view) {
    var form = document.getElementById("filters");
    if (!form) { return; }
    VIEW_KEYS.forEach(function (k) {
      var input = form.querySelector("input[type=hidden][name=" + k + "]");
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = k;
        form.appendChild(input);
      }
      input.value = view[k];
    });
  }

  var listController = null;
  function loadList(params) {
    var list = document.getElementById("home-list");
    if (!list || !config.listUrl) { return; }
    params = new URLSearchParams(params);
    params.set("fragment", "list");
    if (listController) { listController.abort(); }
    listController = window.AbortController ? new AbortController() : null;
    list.setAttribute("aria-busy", "true");
    fetch(config.listUrl + "?" + params.toString(), { signal: listController && listController.signal, headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(r.status)); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#home-list");
        if (fresh) { list.replaceWith(fresh); }
      })
      .catch(function () { list.removeAttribute("aria-busy"); });
  }

  window.addEventListener("popstate", function () {
    var view = fromQuery();
    if (!view) { return; }
    restoring = true;
    map.setView(view.center, view.zoom, { animate: false });
    setTimeout(function () { restoring = false; }, 1000); // in case the view did not change
  });

  // "Use my location" above the map (shown only where the browser can share it): the map, and
  // so the list, move to the reports around the person.
  var locateRow = document.getElementById("home-locate-row");
  var locate = document.getElementById("home-locate");
  var locateStatus = document.getElementById("home-locate-status");
  if (locateRow && locate && navigator.geolocation) {
    locateRow.hidden = false;
    locate.addEventListener("click", function () {
      locateStatus.textContent = locate.getAttribute("data-finding");
      navigator.geolocation.getCurrentPosition(function (pos) {
        locateStatus.textContent = "";
        map.setView([pos.coords.latitude, pos.coords.longitude], 16);
      }, function (err) {
        locateStatus.textContent = locate.getAttribute(err.code === 1 ? "data-denied" : "data-unavailable");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Choosing another ward is a new place to look: the map then opens on the whole city again.
  var filterForm = document.getElementById("filters");
  var wardChoice = document.getElementById("f-ward");
  if (filterForm && wardChoice) {
    var wardBefore = wardChoice.value;
    filterForm.addEventListener("submit", function () {
      if (wardChoice.value === wardBefore) { return; }
      filterForm.querySelectorAll("input[type=hidden]").forEach(function (input) {
        if (VIEW_KEYS.indexOf(input.name) !== -1) { input.remove(); }
      });
    });
  }

  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "map-legend");
    var rows = STATUS_ORDER.filter(function (k) { return k !== "archived"; }).map(function (k) {
      return '<span class="map-legend__dot map-legend__dot--' + k + '"></span>' + escapeHtml(strings.statuses[k]);
    });
    rows.push('<span class="map-legend__ring"></span>' + escapeHtml(strings.cluster));
    div.innerHTML = rows.join("<br>");
    return div;
  };
  legend.addTo(map);

  if (config.reportUrl) {
    // Clicking an empty spot offers to report a problem there.
    map.on("click", function (e) {
      var params = new URLSearchParams({ latitude: e.latlng.lat.toFixed(6), longitude: e.latlng.lng.toFixed(6) });
      L.popup().setLatLng(e.latlng)
        .setContent('<a class="button button--small" href="' + config.reportUrl + "?" + params.toString() + '">' + escapeHtml(strings.reportHere) + "</a>")
        .openOn(map);
    });
  }

  // The markers come after the outlines (civicmap.js says why); moves made meanwhile wait too.
  outlinesDrawn.then(function () {
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 150); });
    load();
  });
})();

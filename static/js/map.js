/* The home map: issues for the visible box from the viewport endpoint (clusters when zoomed out),
 * with the page's filters. The map position lives in the URL hash so a view can be shared. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var element = document.getElementById("map");
  if (!config || !element || !window.L) { return; }
  var status = document.getElementById("map-status");
  var strings = config.strings;

  function fromHash() {
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(window.location.hash);
    return m ? { zoom: +m[1], center: [+m[2], +m[3]] } : null;
  }
  var start = fromHash() || { zoom: config.zoom, center: config.center };
  var map = CivicMap.baseMap("map", config).setView(start.center, start.zoom);
  var box = config.filters && config.filters.bbox && config.filters.bbox.split(",").map(Number);
  if (box && box.length === 4 && !fromHash()) {
    // A list limited to one area (a dashboard's grid cell): show that area.
    map.fitBounds([[box[1], box[0]], [box[3], box[2]]]);
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

  function draw(data) {
    layer.clearLayers();
    data.features.forEach(function (f) {
      var lon = f.geometry.coordinates[0], lat = f.geometry.coordinates[1];
      var p = f.properties;
      if (p.cluster) {
        var size = Math.min(60, 26 + Math.round(Math.log(p.count) * 6));
        var marker = L.marker([lat, lon], {
          icon: L.divIcon({ className: "", html: '<div class="cluster-icon" style="width:' + size + "px;height:" + size + 'px">' + p.count + "</div>", iconSize: [size, size] }),
          title: p.count + " " + strings.issues + " – " + strings.zoomIn,
          alt: p.count + " " + strings.issues,
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
      status.textContent = count + " " + strings.issues;
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
    var c = map.getCenter();
    history.replaceState(null, "", "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5));
  }

  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "map-legend");
    var rows = Object.keys(strings.statuses).filter(function (k) { return k !== "archived"; }).map(function (k) {
      return '<span style="background:' + CivicMap.STATUS_COLOURS[k] + '"></span>' + escapeHtml(strings.statuses[k]);
    });
    rows.push('<span style="background:#0b5cad"></span>' + escapeHtml(strings.cluster));
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

  // Changing the filters keeps the map where the person left it.
  var filterForm = document.getElementById("filters");
  if (filterForm) {
    filterForm.addEventListener("submit", function () {
      filterForm.action = filterForm.action.split("#")[0] + window.location.hash;
    });
  }

  // The markers come after the outlines (civicmap.js says why); moves made meanwhile wait too.
  outlinesDrawn.then(function () {
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 150); });
    load();
  });
})();

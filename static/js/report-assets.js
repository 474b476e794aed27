/* The report form's asset picker. When the chosen type has an asset layer (street lights, bus
 * stops), the nearest assets to the pin are listed (the server's fragment, the same list the page
 * has without JavaScript) and the layer is drawn on the map, clustered when zoomed out. Picking
 * an asset on the map (a click, or Enter on a focused marker) or in the list checks its radio
 * button and moves the pin onto it; a live region says what was picked.
 * Without this file the list still comes with the page, and the form works as before. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var form = document.getElementById("report-form");
  var box = document.getElementById("asset-picker");
  if (!config || !form || !box || !config.assetsUrl) { return; }
  var typeSelect = document.getElementById("id_service_code");
  var latInput = document.getElementById("id_latitude");
  var lonInput = document.getElementById("id_longitude");
  var report = window.CivicReport || {};
  var map = report.map || null;
  var markers = map ? L.layerGroup().addTo(map) : null;
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  box.parentNode.insertBefore(status, box.nextSibling);
  var chosen = "";
  var quiet = false;
  var listTimer = null;
  var mapTimer = null;
  var controller = null;

  function fieldset() { return box.querySelector("fieldset[data-layer]"); }

  function checkedValue() {
    var radio = box.querySelector("input[name=asset]:checked");
    return radio ? radio.value : "";
  }

  function refreshList() {
    clearTimeout(listTimer);
    listTimer = setTimeout(function () {
      var params = new URLSearchParams({
        type: typeSelect.value, latitude: latInput.value, longitude: lonInput.value, asset: chosen
      });
      fetch(config.assetsUrl + "?" + params.toString(), { headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          var hadFocus = box.contains(document.activeElement);
          box.innerHTML = html;
          chosen = checkedValue();
          if (hadFocus) {
            var radio = box.querySelector("input[name=asset]:checked");
            if (radio) { radio.focus(); }
          }
          loadMap();
        })
        .catch(function () { /* the list stays as it was; the form still works */ });
    }, 250);
  }

  function announce(props) {
    var fs = fieldset();
    var label = fs ? fs.getAttribute("data-label") : "";
    status.textContent = label + " " + props.id + (props.name ? ": " + props.name : "") + " ✓";
  }

  function pick(props, lat, lng) {
    chosen = props.id;
    announce(props);
    if (report.setPoint) { report.setPoint(L.latLng(lat, lng), false); }
  }

  function markerFor(feature) {
    var p = feature.properties;
    var lat = feature.geometry.coordinates[1], lng = feature.geometry.coordinates[0];
    if (p.cluster) {
      var size = Math.min(48, 22 + Math.round(Math.log(p.count) * 5));
      var cluster = L.marker([lat, lng], {
        icon: L.divIcon({ className: "", html: '<div class="cluster-icon cluster-icon--asset" style="width:' + size + "px;height:" + size + 'px">' + p.count + "</div>", iconSize: [size, size] }),
        title: p.count + " – " + (config.strings.zoomIn || ""), keyboard: true
      });
      cluster.on("click keypress", function () {
        var b = p.bbox;
        map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: map.getZoom() + 3 });
      });
      return cluster;
    }
    var label = fieldset() ? fieldset().getAttribute("data-label") : "";
    var marker = L.marker([lat, lng], {
      icon: L.divIcon({ className: "asset-marker" + (p.id === chosen ? " asset-marker--chosen" : ""), iconSize: [16, 16] }),
      title: label + " " + p.id + (p.name ? ": " + p.name : ""),
      alt: label + " " + p.id,
      keyboard: true,
      riseOnHover: true
    });
    // Leaflet only opens popups on Enter: a focused marker is picked by Enter or Space here.
    marker.on("click keypress", function (e) {
      var key = e.originalEvent && e.originalEvent.key;
      if (e.type === "keypress" && key !== "Enter" && key !== " ") { return; }
      pick(p, lat, lng);
    });
    return marker;
  }

  function loadMap() {
    if (!map) { return; }
    clearTimeout(mapTimer);
    mapTimer = setTimeout(function () {
      var fs = fieldset();
      if (!fs) { markers.clearLayers(); return; }
      var b = map.getBounds();
      var params = new URLSearchParams({
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","),
        zoom: map.getZoom()
      });
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(fs.getAttribute("data-map-url") + "?" + params.toString(), { signal: controller && controller.signal })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          markers.clearLayers();
          data.features.forEach(function (f) { markerFor(f).addTo(markers); });
          map.getContainer().setAttribute("data-assets-loaded", data.features.length);
        })
        .catch(function () { /* the list still offers the nearest ones */ });
    }, 150);
  }

  // A pick in the list: the pin goes to the asset, the list stays where the person is.
  box.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "asset") { return; }
    chosen = radio.value;
    if (radio.value && radio.getAttribute("data-lat")) {
      quiet = true;
      pick({ id: radio.value, name: "" }, parseFloat(radio.getAttribute("data-lat")), parseFloat(radio.getAttribute("data-lon")));
      quiet = false;
    }
    loadMap();
  });
  form.addEventListener("report:pin", function () { if (!quiet) { refreshList(); } });
  typeSelect.addEventListener("change", function () { chosen = ""; refreshList(); });
  if (map) { map.on("moveend", loadMap); }
  chosen = checkedValue();
  loadMap();
})();

/* Shared map set-up for CivicFix pages: Leaflet from django-leaflet's static files, tiles when
 * they load, and a plain background with ward outlines when they don't. No framework. */
(function () {
  "use strict";

  function readConfig() {
    var node = document.getElementById("map-config");
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(elementId, config, options) {
    var map = L.map(elementId, Object.assign({ zoomControl: true, keyboard: true }, options || {}));
    var container = map.getContainer();
    var status = document.getElementById("map-status");
    if (config.tileUrl) {
      var failures = 0;
      var tiles = L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution });
      tiles.on("tileerror", function () {
        failures += 1;
        // A few failed tiles mean no tile server: say so once, keep drawing our own layers.
        if (failures === 3) {
          container.classList.add("map--no-tiles");
          if (status) { status.textContent = config.strings.tilesFailed; }
        }
      });
      tiles.addTo(map);
    } else {
      container.classList.add("map--no-tiles");
    }
    return map;
  }

  function addWards(map, config) {
    if (!config.wardsUrl) { return; }
    fetch(config.wardsUrl, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, {
          interactive: false,
          style: { color: "#12355b", weight: 1, opacity: 0.55, fillOpacity: 0.03 }
        }).addTo(map).bringToBack();
      })
      .catch(function () { /* outlines are a nicety; the issues still show */ });
  }

  var STATUS_COLOURS = {
    open: "#c2410c", acknowledged: "#a16207", in_progress: "#0b5cad",
    closed: "#1d6b36", archived: "#6b7378"
  };

  // Text from the data into a popup's HTML, escaped.
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  window.CivicMap = {
    readConfig: readConfig, baseMap: baseMap, addWards: addWards, escapeHtml: escapeHtml,
    STATUS_COLOURS: STATUS_COLOURS
  };
})();

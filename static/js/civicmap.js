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

  // Ward outlines under everything else. Returns a promise that settles once they are drawn (or
  // failed), so a page can load its markers after them: a slow phone then shows the city's shape
  // first, not circles on a blank box. With config.wardsStreetUrl, the finer outlines replace the
  // city-wide ones once the map is zoomed in to streets (fetched once, on the first such zoom).
  var STREET_OUTLINE_ZOOM = 14;
  var OUTLINE_STYLE = { color: "#12355b", weight: 1, opacity: 0.55, fillOpacity: 0.03 };

  function fetchOutlines(url) {
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  function addWards(map, config) {
    if (!config.wardsUrl || !window.fetch) { return Promise.resolve(); }
    var layer = null;
    function draw(data) {
      if (!data) { return; }
      if (layer) { map.removeLayer(layer); }
      layer = L.geoJSON(data, { interactive: false, style: OUTLINE_STYLE }).addTo(map).bringToBack();
    }
    if (config.wardsStreetUrl) {
      var street = null;
      map.on("zoomend", function () {
        if (street || map.getZoom() < STREET_OUTLINE_ZOOM) { return; }
        street = fetchOutlines(config.wardsStreetUrl).then(draw).catch(function () {});
      });
    }
    return fetchOutlines(config.wardsUrl)
      .then(function (data) { if (!layer) { draw(data); } })
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

/* Shared map set-up for CivicFix pages: Leaflet from django-leaflet's static files, tiles when
 * they load, and a plain background with ward outlines when they don't. No framework. */
(function () {
  "use strict";

  function readConfig() {
    var node = document.getElementById("map-config");
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(elementId, config, options) {
    var settings = Object.assign({ zoomControl: true, keyboard: true }, options || {});
    var strings = config.strings || {};
    var zoomControl = settings.zoomControl;
    settings.zoomControl = false; // added below with its buttons named in the page's language
    var map = L.map(elementId, settings);
    if (zoomControl) {
      L.control.zoom({
        zoomInTitle: strings.zoomInButton || "Zoom in",
        zoomOutTitle: strings.zoomOutButton || "Zoom out"
      }).addTo(map);
    }
    if (strings.closePopup) {
      // Leaflet names a popup's close button in English whatever the page's language.
      map.on("popupopen", function (e) {
        var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
        if (close) { close.setAttribute("aria-label", strings.closePopup); close.title = strings.closePopup; }
      });
    }
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

  // A count as the page's language writes it (Latin digits, as the server's pages have them).
  function number(n) {
    var lang = document.documentElement.lang || undefined;
    try {
      return new Intl.NumberFormat(lang, { numberingSystem: "latn" }).format(n);
    } catch (e) {
      return String(n);
    }
  }

  // A translated sentence from the server with its %(name)s placeholders filled.
  function fill(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // A counted sentence: `forms` is {plural category: sentence with %(n)s} for the page's
  // language (issues/plurals.py), so "3 issues" is right in Polish and Arabic too.
  function plural(forms, n) {
    if (!forms) { return number(n); }
    var category = "other";
    try {
      category = new Intl.PluralRules(document.documentElement.lang || undefined).select(n);
    } catch (e) { /* an old browser: "other" */ }
    var template = forms[category] || forms.other || forms.one || "";
    return fill(template, { n: number(n) });
  }

  window.CivicMap = {
    readConfig: readConfig, baseMap: baseMap, addWards: addWards, escapeHtml: escapeHtml,
    number: number, fill: fill, plural: plural, STATUS_COLOURS: STATUS_COLOURS
  };
})();

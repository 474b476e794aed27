/* An asset layer's map: its assets for the visible box (clusters when zoomed out, each saying how
 * many are adopted), coloured adopted or available, each linking to its page. The list under the
 * map is the same information without JavaScript. Every word comes from the page (the map's
 * data- attributes, in the reader's language): whole phrases with {count} and {adopted} in them,
 * so each language orders its own sentence. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var element = document.getElementById("asset-layer-map");
  if (!config || !element || !window.L || !config.assetMapUrl) { return; }
  var status = document.getElementById("map-status");
  var words = element.dataset;
  var adoptable = words.adoptable === "1";
  var map = CivicMap.baseMap("asset-layer-map", config).setView(config.center, config.zoom);
  CivicMap.addWards(map, config);
  var layer = L.layerGroup().addTo(map);
  var timer = null;
  var COLOURS = { adopted: "#1d6b36", available: "#0b5cad" };

  var escapeHtml = CivicMap.escapeHtml;

  function fill(phrase, values) {
    return phrase.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function draw(data) {
    layer.clearLayers();
    data.features.forEach(function (f) {
      var lat = f.geometry.coordinates[1], lng = f.geometry.coordinates[0];
      var p = f.properties;
      if (p.cluster) {
        var size = Math.min(60, 26 + Math.round(Math.log(p.count) * 6));
        var title = fill(words.cluster, { count: p.count, adopted: p.adopted });
        var cluster = L.marker([lat, lng], {
          icon: L.divIcon({ className: "", html: '<div class="cluster-icon cluster-icon--asset" style="width:' + size + "px;height:" + size + 'px">' + p.count + "</div>", iconSize: [size, size] }),
          title: title, alt: title, keyboard: true
        });
        cluster.on("click keypress", function () {
          var b = p.bbox;
          map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: map.getZoom() + 3 });
        });
        cluster.addTo(layer);
        return;
      }
      var state = p.adopters > 0 ? (p.available ? words.room : words.full) : words.available;
      L.circleMarker([lat, lng], {
        radius: 7, weight: 2, color: "#fff", fillOpacity: 0.95,
        fillColor: p.adopters > 0 ? COLOURS.adopted : COLOURS.available
      }).bindPopup('<strong><a href="' + escapeHtml(p.url) + '">' + escapeHtml(p.name || p.id) + "</a></strong><br>" +
        escapeHtml(p.id) + (adoptable ? " · " + escapeHtml(state) : "")).addTo(layer);
    });
    if (status && !element.classList.contains("map--no-tiles")) {
      status.textContent = fill(words.count, { count: data.properties.count });
    }
    element.setAttribute("data-loaded", data.features.length);
  }

  function load() {
    var b = map.getBounds();
    var params = new URLSearchParams({
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","),
      zoom: map.getZoom()
    });
    fetch(config.assetMapUrl + "?" + params.toString())
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { if (status) { status.textContent = config.strings.loadFailed; } });
  }

  if (adoptable) {
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "map-legend");
      div.innerHTML = '<span style="background:' + COLOURS.adopted + '"></span>' + escapeHtml(words.adopted) +
        '<br><span style="background:' + COLOURS.available + '"></span>' + escapeHtml(words.available);
      return div;
    };
    legend.addTo(map);
  }
  map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 150); });
  load();
})();

/* The embeddable map (/embed/): Leaflet from django-leaflet's static files, issues from the
 * site's viewport endpoint (clusters when zoomed out, issues when zoomed in) with the embed's
 * filters. It runs inside other people's pages, so it loads only Leaflet and civicmap.js. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("embed-config").textContent);
  var status = document.getElementById("embed-status");
  var COLOURS = window.CivicMap.STATUS_COLOURS;

  var map = L.map("embed-map", { zoomControl: true, keyboard: true });
  if (config.bounds) {
    map.fitBounds(config.bounds);
  } else {
    map.setView(config.center, config.zoom);
  }

  if (config.tileUrl) {
    var failures = 0;
    var tiles = L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution });
    tiles.on("tileerror", function () {
      failures += 1;
      if (failures === 3) { status.textContent = config.strings.tilesFailed; }
    });
    tiles.addTo(map);
  }

  window.CivicMap.addWards(map, config);

  var layer = L.layerGroup().addTo(map);
  var pending = null;
  var timer = null;

  function absolute(url) {
    return new URL(url, config.siteUrl).href;
  }

  function popup(props) {
    // Built from text nodes: report text is never parsed as HTML here.
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = props.service_name;
    box.appendChild(title);
    var lines = [props.status_label, props.address, props.id];
    lines.forEach(function (text) {
      if (!text) { return; }
      var line = document.createElement("div");
      line.textContent = text;
      box.appendChild(line);
    });
    var link = document.createElement("a");
    link.href = absolute(props.url);
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = config.strings.open;
    box.appendChild(link);
    return box;
  }

  function draw(data) {
    layer.clearLayers();
    (data.features || []).forEach(function (feature) {
      if (!feature.geometry) { return; }
      var c = feature.geometry.coordinates;
      var props = feature.properties || {};
      var latlng = [c[1], c[0]];
      if (props.cluster) {
        var size = Math.min(56, 24 + Math.round(Math.log(props.count + 1) * 5));
        var icon = L.divIcon({
          className: "",
          html: '<div class="embed-cluster" style="width:' + size + "px;height:" + size + 'px">' + Number(props.count) + "</div>",
          iconSize: [size, size]
        });
        var marker = L.marker(latlng, {
          icon: icon, keyboard: true,
          title: config.strings.issues.replace("%(n)s", props.count)
        });
        marker.on("click", function () {
          if (props.bbox) {
            map.fitBounds([[props.bbox[1], props.bbox[0]], [props.bbox[3], props.bbox[2]]]);
          } else {
            map.setView(latlng, map.getZoom() + 2);
          }
        });
        marker.addTo(layer);
      } else {
        L.circleMarker(latlng, {
          radius: 7, weight: 2, color: "#fff", fillOpacity: 0.9,
          fillColor: COLOURS[props.status] || "#0b5cad"
        }).bindPopup(popup(props)).addTo(layer);
      }
    });
    map.getContainer().setAttribute("data-features", String((data.features || []).length));
  }

  function load() {
    var b = map.getBounds();
    var params = new URLSearchParams(config.filters);
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return v.toFixed(5);
    }).join(","));
    params.set("zoom", String(map.getZoom()));
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(config.viewportUrl + "?" + params.toString(), {
      headers: { Accept: "application/geo+json" }, signal: pending.signal
    })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) {
        if (status.textContent === config.strings.loadFailed) { status.textContent = ""; }
        draw(data);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { status.textContent = config.strings.loadFailed; }
      });
  }

  map.on("moveend", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  });
  load();
})();

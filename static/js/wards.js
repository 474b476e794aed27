/* Ward maps: the league table's choropleth and a ward's map (outline, heat grid, open issues,
   hotspot alerts). Everything drawn here is also on the page as tables; without this file, or
   without tiles, nothing is lost. No framework: Leaflet only. */
(function () {
  "use strict";

  // Printing shows every table, including those folded away under "The figures as a table".
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });

  var el = document.getElementById("wards-map");
  var dataEl = document.getElementById("wards-map-data");
  if (!el || !dataEl || typeof L === "undefined") return;
  var data = JSON.parse(dataEl.textContent);
  el.innerHTML = "";

  var map = L.map(el, { scrollWheelZoom: false }).setView(data.center, data.zoom);
  if (data.tiles) {
    // Tiles are decoration: the polygons and points carry the information.
    L.tileLayer(data.tiles, { attribution: data.attribution, maxZoom: 19 }).addTo(map);
  }

  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/geo+json, application/json");
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        try { done(JSON.parse(xhr.responseText)); } catch (e) { /* leave the map as it is */ }
      }
    };
    xhr.send();
  }

  function escapeText(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML;
  }

  if (el.dataset.map === "league") {
    var measure = data.measure;
    getJSON(data.outlines, function (outlines) {
      var layer = L.geoJSON(outlines, {
        style: function (feature) {
          var colour = (data.colours[measure] || {})[feature.properties.number] || "#d9d9d9";
          return { color: "#333", weight: 1, fillColor: colour, fillOpacity: 0.8 };
        },
        onEachFeature: function (feature, shape) {
          var number = feature.properties.number;
          var values = data.values[number] || {};
          shape.bindTooltip(
            escapeText(feature.properties.name) + ": " + escapeText(values[measure] || "–"),
            { sticky: true }
          );
          shape.on("click", function () {
            window.location.href = "./" + encodeURIComponent(feature.properties.slug) + "/";
          });
        }
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    });
    // Choosing another measure reloads the page: the table, the legend and the map agree.
    var form = document.getElementById("wards-measure-form");
    var select = document.getElementById("wards-sort");
    if (form && select) {
      select.addEventListener("change", function () { form.submit(); });
    }
    return;
  }

  // One ward: outline, heat grid, alerts and open issues, each a layer that can be switched off.
  var outline = L.geoJSON(data.outline, {
    style: { color: "#12355b", weight: 2, fillOpacity: 0.04 }
  }).addTo(map);
  if (outline.getBounds().isValid()) map.fitBounds(outline.getBounds());

  var heat = L.layerGroup();
  var max = data.heat_max || 1;
  // Each cell is [row, col, count] on the fixed grid of data.grid's steps (latitude,
  // longitude): its edges are row and col times the steps, as issues.dashboards.ward.HeatCell's.
  var lat = data.grid[0], lon = data.grid[1];
  data.cells.forEach(function (c) {
    L.rectangle([[c[0] * lat, c[1] * lon], [(c[0] + 1) * lat, (c[1] + 1) * lon]], {
      stroke: false, fillColor: "#bd0026", fillOpacity: 0.15 + 0.65 * c[2] / max
    }).bindTooltip(String(c[2])).addTo(heat);
  });
  heat.addTo(map);

  var alerts = L.layerGroup();
  data.alerts.forEach(function (a) {
    L.circle([a.lat, a.lon], { radius: a.radius, color: "#6a0dad", weight: 2, fill: false })
      .bindTooltip(escapeText(a.label)).addTo(alerts);
  });
  alerts.addTo(map);

  var issues = L.layerGroup().addTo(map);
  getJSON(data.issues, function (geojson) {
    (geojson.features || []).forEach(function (f) {
      if (!f.geometry || f.geometry.type !== "Point") return;
      var p = f.properties || {};
      var count = p.count || p.point_count;
      var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
        radius: count ? Math.min(18, 6 + Math.log(count) * 3) : 5,
        color: "#0b5cad", weight: 1, fillColor: "#0b5cad", fillOpacity: 0.7
      });
      var label = count ? count + " " : escapeText(p.type || p.service_name || "") + " " + escapeText(p.id || p.public_id || "");
      marker.bindTooltip(label);
      var url = p.url || (p.id ? "/issues/" + encodeURIComponent(p.id) + "/" : null);
      if (url && !count) marker.on("click", function () { window.location.href = url; });
      marker.addTo(issues);
    });
  });

  L.control.layers(null, (function () {
    var layers = {};
    layers[el.dataset.labelHeat] = heat;
    layers[el.dataset.labelIssues] = issues;
    layers[el.dataset.labelAlerts] = alerts;
    return layers;
  })(), { collapsed: false }).addTo(map);
})();

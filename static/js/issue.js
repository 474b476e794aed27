/* The small map on an issue page: one marker where the problem is. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  if (!config || !config.pin || !window.L || !document.getElementById("issue-map")) { return; }
  var map = CivicMap.baseMap("issue-map", config, { scrollWheelZoom: false }).setView(config.pin, config.zoom || 17);
  CivicMap.addWards(map, config);
  L.circleMarker(config.pin, { radius: 10, weight: 3, color: "#fff", fillColor: "#c2410c", fillOpacity: 1 }).addTo(map);
})();

/* The alert form's map: click or drag to put the pin (filling latitude/longitude); the circle
 * shows the chosen radius. Without this file the form works with typed coordinates. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var form = document.getElementById("alert-form");
  if (!config || !form || !window.L) { return; }
  var latInput = document.getElementById("id_latitude");
  var lonInput = document.getElementById("id_longitude");
  var radius = document.getElementById("id_radius_m");
  var marker = null, circle = null;
  document.getElementById("alert-map-wrap").hidden = false;

  function currentPoint() {
    var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
    return isFinite(lat) && isFinite(lon) ? L.latLng(lat, lon) : null;
  }
  function metres() { return parseInt(radius.value, 10) || 500; }

  var start = currentPoint();
  var map = CivicMap.baseMap("alert-map", config).setView(start || config.center, start ? 15 : config.zoom);

  function setPoint(latlng, pan) {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    if (!marker) {
      var name = (config.strings && config.strings.pin) || "";
      marker = L.marker(latlng, { draggable: true, keyboard: true, title: name, alt: name }).addTo(map);
      marker.on("dragend", function () { setPoint(marker.getLatLng(), false); });
      circle = L.circle(latlng, { radius: metres() }).addTo(map);
    } else {
      marker.setLatLng(latlng);
      circle.setLatLng(latlng);
    }
    if (pan) { map.fitBounds(circle.getBounds()); }
  }

  if (start) { setPoint(start, true); }
  map.on("click", function (e) { setPoint(e.latlng, false); });
  radius.addEventListener("change", function () {
    if (circle) { circle.setRadius(metres()); map.fitBounds(circle.getBounds()); }
  });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("change", function () { var p = currentPoint(); if (p) { setPoint(p, true); } });
  });
  document.getElementById("alert-pin-centre").addEventListener("click", function () { setPoint(map.getCenter(), false); });
  var locate = document.getElementById("alert-locate");
  var status = document.getElementById("alert-locate-status");
  if (!navigator.geolocation) { locate.hidden = true; return; }
  locate.addEventListener("click", function () {
    status.textContent = locate.getAttribute("data-finding") || "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      status.textContent = "";
      setPoint(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
    }, function (err) { status.textContent = err.message || ""; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();

/* The staff workbench's issue page: a Leaflet map of the point (click to move it when placing an
   issue), and response templates that fill the public message. Everything here also works as
   plain HTML forms; this only saves typing. */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function setUpMap() {
    var el = document.getElementById("cf-issue-map");
    if (!el || !window.L) return;
    var tiles = readJSON("cf-map-tiles") || {};
    var lat = parseFloat(el.dataset.lat);
    var lon = parseFloat(el.dataset.lon);
    var hasPoint = !isNaN(lat) && !isNaN(lon);
    var center = hasPoint ? [lat, lon] : (tiles.center || [0, 0]);
    var map = L.map(el, { scrollWheelZoom: false }).setView(center, hasPoint ? 17 : 11);
    if (tiles.url) {
      // Without network the tiles simply fail; the marker still shows where the issue is.
      L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var marker = null;
    function show(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.5 }).addTo(map);
      }
    }
    if (hasPoint) show([lat, lon]);
    var form = document.getElementById("cf-place-form");
    if (!form || !el.dataset.editable) return;
    // A place chosen in the search box above the form (places.js).
    form.addEventListener("place:chosen", function (event) {
      show([event.detail.lat, event.detail.lng]);
      map.setView([event.detail.lat, event.detail.lng], 17);
    });
    map.on("click", function (event) {
      show(event.latlng);
      form.querySelector("[name=latitude]").value = event.latlng.lat.toFixed(6);
      form.querySelector("[name=longitude]").value = event.latlng.lng.toFixed(6);
    });
  }

  function setUpTemplates() {
    var bodies = readJSON("cf-template-bodies");
    if (!bodies) return;
    document.querySelectorAll("select[name=template]").forEach(function (select) {
      var message = select.form && select.form.querySelector("textarea[name=message]");
      if (!message) return;
      var filled = "";
      function fill() {
        var body = bodies[select.value] || "";
        // Never overwrite what a person wrote; replace only text a template put there.
        if (!message.value.trim() || message.value === filled) {
          message.value = body;
          filled = body;
        }
      }
      select.addEventListener("change", fill);
      // A template chosen while this script was still loading (a slow link) counts too.
      if (select.value) fill();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMap();
    setUpTemplates();
  });
})();

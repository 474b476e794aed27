/* The report form's extras: a map to drop and drag a pin (which fills latitude/longitude),
 * "use my location", the chosen type's questions, and "Is this it?" for nearby reports.
 * Without this file the form still works: address and coordinates are typed. */
(function () {
  "use strict";
  var config = CivicMap.readConfig();
  var form = document.getElementById("report-form");
  if (!config || !form) { return; }
  var latInput = document.getElementById("id_latitude");
  var lonInput = document.getElementById("id_longitude");
  var typeSelect = document.getElementById("id_service_code");
  var questions = document.getElementById("questions");
  var nearbyBox = document.getElementById("nearby-live");
  var notDuplicate = form.querySelector("input[name=not_duplicate]");
  var marker = null;
  var map = null;

  function currentPoint() {
    var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
    return isFinite(lat) && isFinite(lon) ? [lat, lon] : null;
  }

  function setPoint(latlng, pan) {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    if (map) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: config.strings.pin, alt: config.strings.pin }).addTo(map);
        marker.on("dragend", function () { setPoint(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), 17)); }
    }
    checkNearby();
    // Other parts of the form (the asset picker, report-assets.js) follow the pin.
    form.dispatchEvent(new CustomEvent("report:pin", { detail: { lat: latlng.lat, lng: latlng.lng } }));
  }

  if (window.L) {
    var wrap = document.getElementById("report-map-wrap");
    wrap.hidden = false;
    var start = currentPoint();
    map = CivicMap.baseMap("report-map", config).setView(start || config.center, start ? 17 : config.zoom);
    CivicMap.addWards(map, config);
    if (start) { setPoint(L.latLng(start[0], start[1]), false); }
    map.on("click", function (e) { setPoint(e.latlng, false); });
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var p = currentPoint();
        if (p) { setPoint(L.latLng(p[0], p[1]), true); }
      });
    });
  }

  // Keyboard users pan with the arrow keys, then place the pin where the map is centred.
  var centre = document.getElementById("pin-centre");
  if (centre && map) {
    centre.addEventListener("click", function () { setPoint(map.getCenter(), false); });
  }

  var locate = document.getElementById("locate");
  var locateStatus = document.getElementById("locate-status");
  if (locate) {
    locate.addEventListener("click", function () {
      if (!navigator.geolocation || !map) {
        locateStatus.textContent = locate.getAttribute("data-unsupported");
        return;
      }
      locateStatus.textContent = locate.getAttribute("data-finding") || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        locateStatus.textContent = "";
        setPoint(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
      }, function (err) {
        // The browser's own wording varies and is often technical: say what happened and what to do.
        locateStatus.textContent = locate.getAttribute(err.code === 1 ? "data-denied" : "data-unavailable");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Problems already reported, as small dots under the pin once the map shows streets, so a
  // resident sees at once that theirs may be there already (the same endpoint as the home map).
  var STREETS_ZOOM = 15;
  if (map && config.viewportUrl) {
    var existing = L.layerGroup().addTo(map);
    var existingController = null;
    var showExisting = function () {
      if (existingController) { existingController.abort(); }
      existing.clearLayers();
      if (map.getZoom() < STREETS_ZOOM) { return; }
      var b = map.getBounds();
      var params = new URLSearchParams({
        bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(","),
        zoom: map.getZoom()
      });
      existingController = window.AbortController ? new AbortController() : null;
      fetch(config.viewportUrl + "?" + params.toString(), { signal: existingController && existingController.signal })
        .then(function (r) { return r.ok ? r.json() : { features: [] }; })
        .then(function (data) {
          data.features.forEach(function (f) {
            if (f.properties.cluster) { return; }
            var c = f.geometry.coordinates;
            L.circleMarker([c[1], c[0]], {
              radius: 6, weight: 2, color: "#fff", fillOpacity: 0.9, bubblingMouseEvents: false,
              fillColor: CivicMap.STATUS_COLOURS[f.properties.status] || "#0b5cad", className: "existing-report"
            }).bindTooltip(CivicMap.escapeHtml(f.properties.service_name + " · " + f.properties.status_label)).addTo(existing);
          });
          map.getContainer().setAttribute("data-existing", existing.getLayers().length);
        })
        .catch(function () {});
    };
    map.on("moveend", showExisting);
    showExisting();
  }

  function loadQuestions() {
    var code = typeSelect.value;
    fetch(config.questionsUrl + "?type=" + encodeURIComponent(code), { headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { questions.innerHTML = html; })
      .catch(function () {});
  }

  var nearbyTimer = null;
  function checkNearby() {
    clearTimeout(nearbyTimer);
    nearbyTimer = setTimeout(function () {
      var p = currentPoint();
      if (!p || !typeSelect.value) { nearbyBox.innerHTML = ""; return; }
      var params = new URLSearchParams({ type: typeSelect.value, latitude: p[0], longitude: p[1] });
      fetch(config.nearbyUrl + "?" + params.toString())
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          nearbyBox.innerHTML = html;
          // The resident has now seen what is nearby: the server need not ask again.
          if (notDuplicate && html.trim()) { notDuplicate.value = "True"; }
        })
        .catch(function () {});
    }, 300);
  }

  typeSelect.addEventListener("change", function () { loadQuestions(); checkNearby(); });
  // What other scripts on this page need: the map, and a way to move the pin.
  window.CivicReport = { map: map, setPoint: setPoint };
  if (currentPoint() && typeSelect.value) { checkNearby(); }
})();

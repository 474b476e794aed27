/* The place search box above the maps: suggestions as you type (a combobox: arrow keys, Enter,
 * Escape; the count announced), and choosing one moves the map and the report's pin. On the
 * report form it also names every pin as it lands (reverse lookup, stored as the address) and
 * says at once when a pin is outside every ward. Without this file the box submits to the
 * results page and the address is typed. */
(function () {
  "use strict";
  var form = document.querySelector("form.place-search");
  var input = document.getElementById("place-q");
  var list = document.getElementById("place-q-list");
  var status = document.getElementById("place-q-status");
  var results = [];
  var active = -1;
  var timer = null;
  var controller = null;

  function close() {
    list.hidden = true;
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    var items = list.querySelectorAll("[role=option]");
    items.forEach(function (li, n) { li.setAttribute("aria-selected", n === i ? "true" : "false"); });
    active = i;
    if (i >= 0 && items[i]) {
      input.setAttribute("aria-activedescendant", items[i].id);
      items[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  // "3 places found", in the page's language: data-found holds the sentence for each plural
  // category of the language (issues/plurals.py), so Polish and Arabic counts are right.
  function found(n) {
    var forms = {};
    try { forms = JSON.parse(form.dataset.found || "{}"); } catch (e) { /* keep {} */ }
    var lang = document.documentElement.lang || undefined;
    var category = "other";
    var shown = String(n);
    try {
      category = new Intl.PluralRules(lang).select(n);
      shown = new Intl.NumberFormat(lang, { numberingSystem: "latn" }).format(n);
    } catch (e) { /* an old browser */ }
    return (forms[category] || forms.other || forms.one || "%(n)s").split("%(n)s").join(shown);
  }

  function show(data) {
    results = data;
    list.innerHTML = "";
    data.forEach(function (r, i) {
      var li = document.createElement("li");
      li.id = "place-q-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.className = "place-search__option";
      li.textContent = r.display_name + (r.ward ? " (" + r.ward.name + ")" : "");
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    list.hidden = data.length === 0;
    input.setAttribute("aria-expanded", data.length ? "true" : "false");
    status.textContent = data.length ? found(data.length) : form.dataset.noMatch;
    active = -1;
  }

  function suggest() {
    var q = input.value.trim();
    if (q.length < 3) { close(); return; }
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(form.dataset.searchUrl + "?q=" + encodeURIComponent(q), { signal: controller && controller.signal })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(show)
      .catch(function () {});
  }

  function choose(i) {
    var r = results[i];
    if (!r) { return; }
    var lat = parseFloat(r.lat), lon = parseFloat(r.lon);
    input.value = r.display_name;
    close();
    status.textContent = r.display_name;
    var staffForm = document.getElementById("cf-place-form");
    if (staffForm) {
      // The workbench's "Correct the place": fill its fields; its map follows (admin-issue.js).
      staffForm.querySelector("[name=latitude]").value = lat.toFixed(6);
      staffForm.querySelector("[name=longitude]").value = lon.toFixed(6);
      staffForm.querySelector("[name=address]").value = r.display_name;
      staffForm.dispatchEvent(new CustomEvent("place:chosen", { detail: { lat: lat, lng: lon } }));
    } else if (window.CivicReport && window.L) {
      var address = document.getElementById("id_address");
      if (address) { address.value = r.display_name; address.dataset.auto = "1"; }
      window.CivicReport.setPoint(L.latLng(lat, lon), true);
    } else if (window.CivicHomeMap) {
      window.CivicHomeMap.setView([lat, lon], 17);
    } else {
      form.submit();
    }
  }

  if (form && input && list) {
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 200); });
    input.addEventListener("keydown", function (e) {
      var n = list.querySelectorAll("[role=option]").length;
      if (e.key === "ArrowDown" && n) { e.preventDefault(); highlight((active + 1) % n); }
      else if (e.key === "ArrowUp" && n) { e.preventDefault(); highlight((active - 1 + n) % n); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  // The report form: name each pin, and flag one outside every ward.
  var report = document.getElementById("report-form");
  var pinStatus = document.getElementById("pin-place");
  if (!report || !pinStatus) { return; }
  var addressInput = document.getElementById("id_address");
  if (addressInput) {
    addressInput.addEventListener("input", function () { delete addressInput.dataset.auto; });
  }
  report.addEventListener("report:pin", function (e) {
    var url = pinStatus.dataset.reverseUrl + "?lat=" + e.detail.lat.toFixed(6) + "&lon=" + e.detail.lng.toFixed(6);
    fetch(url)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        pinStatus.classList.toggle("callout--warning", !data.in_city);
        pinStatus.classList.toggle("callout", !data.in_city);
        pinStatus.innerHTML = "";
        if (!data.in_city) {
          pinStatus.textContent = pinStatus.dataset.outside + " ";
          var back = document.createElement("a");
          back.href = "#report-map";
          back.textContent = pinStatus.dataset.backToMap;
          pinStatus.appendChild(back);
          return;
        }
        var name = data.display_name || "";
        pinStatus.textContent = (name ? name + ", " : "") + data.ward.name;
        if (name && addressInput && (!addressInput.value.trim() || addressInput.dataset.auto)) {
          addressInput.value = name;
          addressInput.dataset.auto = "1";
        }
      })
      .catch(function () {});
  });
})();

/* Fields marked data-select-on-focus select their whole text when focused (the API key shown
   once), so it copies in one go. A file rather than an onfocus attribute: the
   Content-Security-Policy runs no inline script (config/security.py). */
(function () {
  "use strict";
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el.hasAttribute && el.hasAttribute("data-select-on-focus") && el.select) {
      el.select();
    }
  });
})();

/* The phone header's one row: "Menu" opens the navigation and the request tracker in place (a
 * disclosure button). Without this file the link jumps to #site-menu, which site.css shows. */
(function () {
  "use strict";
  var toggle = document.querySelector("[data-menu-toggle]");
  var menu = document.getElementById("site-menu");
  if (!toggle || !menu) { return; }
  toggle.setAttribute("role", "button");
  toggle.addEventListener("click", function (event) {
    event.preventDefault();
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("site-menu--open", open);
    if (open) { var field = menu.querySelector("input, a"); if (field) { field.focus(); } }
  });
  toggle.addEventListener("keydown", function (event) {
    if (event.key === " ") { event.preventDefault(); toggle.click(); } // a button's space key
  });
})();

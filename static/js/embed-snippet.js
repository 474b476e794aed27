/* The "Copy the code" button of templates/opendata/_embed_snippet.html. Without JavaScript the
 * code is still there to select by hand, so the button only appears when it can work. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector(".embed-snippet__status");
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      var done = function () { if (status) { status.textContent = status.getAttribute("data-copied"); } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();

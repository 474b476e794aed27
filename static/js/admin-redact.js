/* Redacting a photo on the workbench's issue page (issue 20): drag on the picture to draw a box;
 * each box is added to the form's "x,y,width,height" list in the photo's own pixels. Without
 * JavaScript the list is typed by hand, and the server checks every box either way. */
(function () {
  "use strict";

  function setUp(form) {
    var img = form.querySelector("img.cf-redact-image");
    var list = form.querySelector("textarea[name=boxes]");
    if (!img || !list) { return; }
    var stage = img.parentNode;
    var start = null;
    var box = null;

    function point(event) {
      var rect = img.getBoundingClientRect();
      var scaleX = img.naturalWidth / rect.width;
      var scaleY = img.naturalHeight / rect.height;
      var x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
      var y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height);
      return { x: x, y: y, px: Math.round(x * scaleX), py: Math.round(y * scaleY) };
    }

    function outline(a, b, el) {
      el.style.left = Math.min(a.x, b.x) + "px";
      el.style.top = Math.min(a.y, b.y) + "px";
      el.style.width = Math.abs(a.x - b.x) + "px";
      el.style.height = Math.abs(a.y - b.y) + "px";
    }

    img.addEventListener("dragstart", function (event) { event.preventDefault(); });
    stage.addEventListener("pointerdown", function (event) {
      start = point(event);
      box = document.createElement("div");
      box.className = "cf-redact-box";
      stage.appendChild(box);
      outline(start, start, box);
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", function (event) {
      if (start && box) { outline(start, point(event), box); }
    });
    stage.addEventListener("pointerup", function (event) {
      if (!start) { return; }
      var end = point(event);
      var x = Math.min(start.px, end.px);
      var y = Math.min(start.py, end.py);
      var w = Math.abs(start.px - end.px);
      var h = Math.abs(start.py - end.py);
      start = null;
      if (w < 2 || h < 2) { box.remove(); box = null; return; }
      w = Math.min(w, img.naturalWidth - x);
      h = Math.min(h, img.naturalHeight - y);
      list.value = (list.value.trim() ? list.value.trim() + "\n" : "") + [x, y, w, h].join(",");
      box = null;
    });
  }

  document.querySelectorAll(".cf-redact-form").forEach(setUp);
}());

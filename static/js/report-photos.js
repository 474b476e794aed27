/* The report form's photos: a preview of each chosen file (URL.createObjectURL, nothing is
 * uploaded until the form is sent), and a file the site cannot take (too big, not a photo, an
 * iPhone HEIC where the server cannot convert it) said at once and taken off the input, so
 * nothing is refused after a long upload. The server checks everything again either way. */
(function () {
  "use strict";
  var input = document.getElementById("id_photos");
  var preview = document.getElementById("photo-preview");
  if (!input || !preview || !window.URL || !URL.createObjectURL) { return; }
  var heicAccepted = input.getAttribute("data-heic") === "1";
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 10 * 1024 * 1024;
  var TAKEN = /^image\/(jpeg|png|webp)$/;
  var urls = [];

  function isHeic(file) {
    return /^image\/hei[cf]$/.test(file.type) || /\.hei[cf]$/i.test(file.name);
  }

  // The messages are the server's, translated, with {name} where the file's name goes.
  function say(name, file) {
    return (preview.getAttribute(name) || "").split("{name}").join(file.name);
  }

  function problem(file) {
    if (isHeic(file)) { return heicAccepted ? "" : say("data-heic-refused", file); }
    var typeKnown = file.type || (/\.(jpe?g|png|webp)$/i.test(file.name) ? "image/jpeg" : "");
    if (!TAKEN.test(typeKnown)) { return say("data-not-photo", file); }
    if (file.size > maxBytes) { return say("data-too-big", file); }
    return "";
  }

  input.addEventListener("change", function () {
    urls.forEach(function (u) { URL.revokeObjectURL(u); });
    urls = [];
    preview.textContent = "";
    var list = document.createElement("ul");
    list.className = "photo-preview__list";
    var kept = new DataTransfer();
    var refused = false;
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      var why = problem(file);
      if (why) {
        refused = true;
        item.className = "photo-preview__refused error";
        item.textContent = why;
      } else {
        kept.items.add(file);
        if (isHeic(file)) {
          // Browsers cannot draw HEIC: name it instead of a broken picture.
          item.textContent = say("data-heic-note", file);
        } else {
          var url = URL.createObjectURL(file);
          urls.push(url);
          var img = document.createElement("img");
          img.src = url;
          img.alt = say("data-preview-alt", file);
          img.className = "photo-preview__img";
          item.appendChild(img);
        }
      }
      list.appendChild(item);
    });
    if (refused) { input.files = kept.files; } // only the photos the site can take are sent
    preview.appendChild(list);
  });
})();

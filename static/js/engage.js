/* "I have this too" and "Follow" on an issue page without reloading it: the same form is posted
 * with fetch, asking for JSON; the server answers with the buttons' box re-rendered, which is
 * swapped in, and focus stays on the box's next useful button. Without this file (or if the
 * request fails) the forms post as usual and the page reloads. */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-engage-form]")) { return; }
    var box = form.closest("[data-engage]");
    if (!box) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    // getAttribute: the forms hold an input named "action", which hides form.action.
    var target = form.getAttribute("action");
    var wasFollow = /\/follow\/$/.test(target);
    if (button) { button.disabled = true; }
    fetch(target, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) }
    })
      .then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      })
      .then(function (answer) {
        var said = box.querySelector(".engage__message");
        if (!answer.ok && answer.data.error && said) {
          said.textContent = answer.data.error; // e.g. too many votes for now: nothing changed
          if (button) { button.disabled = false; }
          return;
        }
        if (!answer.ok || !answer.data.html) { throw new Error("failed"); }
        var holder = document.createElement("div");
        holder.innerHTML = answer.data.html;
        var fresh = holder.querySelector("[data-engage]");
        box.replaceWith(fresh);
        // After a vote the follow button is the offer; after a follow, its own button.
        var forms = fresh.querySelectorAll("[data-engage-form] button[type=submit]");
        var next = forms[wasFollow || answer.data.offer_follow ? forms.length - 1 : 0];
        if (next) { next.focus(); }
      })
      .catch(function () {
        form.submit(); // the plain post: the server's page says what happened
      });
  });
})();

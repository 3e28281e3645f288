// Small behaviours of the chat: keep the newest message in view, Enter sends.
(function () {
  "use strict";

  function scrollToNewest(force) {
    var box = document.getElementById("chat-scroll");
    var list = document.getElementById("conversation");
    if (!box || !list) return;
    // The poll appends messages to the list, so the list itself is the count of them.
    var count = list.childElementCount;
    var seen = Number(box.dataset.seen || -1);
    // Only when something new arrived: a poll that changed nothing must not yank the view.
    if (force || count !== seen) box.scrollTop = box.scrollHeight;
    box.dataset.seen = String(count);
  }

  document.addEventListener("DOMContentLoaded", function () { scrollToNewest(true); });
  document.addEventListener("htmx:afterSettle", function () { scrollToNewest(false); });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!box.matches || !box.matches("#composer textarea")) return;
    event.preventDefault();
    box.form.requestSubmit();
  });
})();

/* While a close run is going, poll its progress and move the bar; reload when it is finished. */
(function () {
  "use strict";
  var bar = document.querySelector("progress[data-poll]");
  if (!bar) { return; }
  var label = document.querySelector("[data-testid=run-progress]");
  function poll() {
    fetch(bar.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        bar.max = p.total || 1; bar.value = p.done;
        if (label) { label.textContent = p.done + " of " + p.total + " done"; }
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1500); }
      });
  }
  window.setTimeout(poll, 1500);
})();

// The clock page's progress while an advance runs: ask the console every
// second where the clock is, and show the finished page once it is done.
// The page works without this script too (it refreshes itself).
(function () {
  "use strict";
  var box = document.getElementById("advance");
  if (!box || box.dataset.running !== "true") return;
  var bar = document.getElementById("advance-bar");
  var state = document.getElementById("advance-state");
  var dates = [document.getElementById("clock-today"), document.getElementById("business-date")];

  function show(p) {
    bar.value = p.percent;
    bar.textContent = p.percent + "%";
    dates.forEach(function (el) { if (el) el.textContent = p.today; });
    state.textContent = "Running: the business date is " + p.today + "; loans with events still due on or before " +
      p.to + ": " + p.loans_due + ".";
  }

  function poll() {
    fetch(box.dataset.progress, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        if (p.running) { show(p); setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();

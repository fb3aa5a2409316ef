// The catalogue's "time left" column, counting down on the server's clock.
"use strict";
(async function () {
  const cells = document.querySelectorAll("time.time-left[data-ends-at]");
  if (!cells.length) return;
  const dayUnit = document.documentElement.lang === "en" ? "d" : "天";
  await window.ServerClock.sync();
  function tick() {
    for (const cell of cells) {
      cell.textContent = window.ServerClock.countdown(Date.parse(cell.dataset.endsAt) - window.ServerClock.now(), dayUnit);
    }
  }
  tick();
  setInterval(tick, 1000);
})();

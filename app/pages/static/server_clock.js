// The server's clock in the browser: countdowns run on server time, never the browser's.
// The offset comes from GET /api/v1/clock (half the round trip is taken as the one-way delay)
// and is refreshed from the server_time every live event carries.
"use strict";
(function () {
  let offsetMs = 0;

  async function sync() {
    const sentAt = Date.now();
    try {
      const response = await fetch("/api/v1/clock", { cache: "no-store" });
      const body = await response.json();
      const receivedAt = Date.now();
      const serverMs = Date.parse(body.server_time || body.now || body.time);
      if (!Number.isNaN(serverMs)) offsetMs = serverMs - (sentAt + receivedAt) / 2;
    } catch (error) {
      // No answer: keep the last offset (zero at first); the next sync corrects it.
    }
    return offsetMs;
  }

  function observe(serverTimeIso) {
    const serverMs = Date.parse(serverTimeIso);
    // An event's server_time is when it was sent, so it can only show the browser ahead of the server.
    if (!Number.isNaN(serverMs) && serverMs - Date.now() > offsetMs) offsetMs = serverMs - Date.now();
  }

  function now() {
    return Date.now() + offsetMs;
  }

  function countdown(msLeft, dayUnit) {
    const whole = Math.max(0, Math.floor(msLeft / 1000));
    const days = Math.floor(whole / 86400);
    const hours = Math.floor((whole % 86400) / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const seconds = whole % 60;
    const pad = (n) => String(n).padStart(2, "0");
    const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
    return days ? `${days}${dayUnit} ${clock}` : clock;
  }

  const shanghai = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "longOffset",
  });

  // "2026-12-01 18:00:05 +08:00", as app/pages/formatting.py writes it.
  function shanghaiTime(iso) {
    const parts = Object.fromEntries(shanghai.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    const offset = (parts.timeZoneName || "GMT+08:00").replace("GMT", "") || "+00:00";
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
  }

  // "1234567.80" as "¥1,234,567.80": on the text, so no float touches an amount.
  function yuan(amount) {
    if (amount === null || amount === undefined) return "—";
    const negative = amount.startsWith("-");
    const [whole, fraction] = (negative ? amount.slice(1) : amount).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return `${negative ? "-" : ""}¥${grouped}.${fraction || "00"}`;
  }

  window.ServerClock = { sync, observe, now, countdown, shanghaiTime, yuan };
})();

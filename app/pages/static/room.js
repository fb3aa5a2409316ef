// The auction room, live: server-sent events move the price, the history, the end and the close
// in front of the reader; a dropped stream reconnects and reloads the room to catch up.
"use strict";
(function () {
  const root = document.getElementById("room");
  if (!root) return;
  const clock = window.ServerClock;
  const auctionId = root.dataset.auctionId;
  const loggedIn = root.dataset.loggedIn === "true";
  const labels = JSON.parse(document.getElementById("room-labels").textContent);
  let state = JSON.parse(document.getElementById("room-state").textContent);
  let lastSequence = state.history.reduce((top, bid) => Math.max(top, bid.sequence), 0);
  let endsAtMs = Date.parse(state.auction.ends_at);
  let reloading = null;
  let heldEvents = [];
  let lastAnnounced = "";
  const $ = (id) => document.getElementById(id);
  const running = () => ["scheduled", "open", "closing"].includes(state.auction.state);

  function text(id, value) {
    const node = $(id);
    if (node && node.textContent !== value) node.textContent = value;
  }

  function historyRow(bid) {
    const row = document.createElement("tr");
    row.dataset.sequence = String(bid.sequence);
    for (const [value, numeric] of [
      [String(bid.paddle), false], [clock.yuan(bid.amount), true],
      [clock.yuan(bid.price_after), true], [clock.shanghaiTime(bid.received_at), false],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      if (numeric) cell.className = "num";
      row.appendChild(cell);
    }
    return row;
  }

  function renderHistory() {
    const body = $("history");
    body.replaceChildren(...state.history.map(historyRow));
    $("no-bids").hidden = state.history.length > 0;
  }

  function renderOutcome() {
    const a = state.auction;
    const outcome = $("outcome");
    if (running()) { outcome.hidden = true; return; }
    if (a.state === "awaiting_payment" || a.state === "sold") {
      outcome.textContent = `${labels.outcome_sold} · ${labels.winning_paddle} ${a.winning_paddle} · ${clock.yuan(a.final_price)}`;
    } else if (a.state === "unsold") {
      outcome.textContent = labels.outcome_unsold;
    } else if (a.state === "cancelled") {
      outcome.textContent = labels.outcome_cancelled;
    } else {
      outcome.textContent = labels.states[a.state] || a.state;
    }
    outcome.hidden = false;
    const verdict = $("verdict");
    if (a.you && (a.state === "awaiting_payment" || a.state === "sold")) {
      verdict.textContent = a.winning_paddle === a.you.paddle ? labels.you_won : labels.you_lost;
      verdict.hidden = false;
    }
    const form = $("bid-form");
    if (form) form.hidden = true;
  }

  function renderYou() {
    const you = state.auction.you;
    if (!you || !$("you-leading")) return;
    text("you-leading", you.leading ? labels.you_lead : (state.auction.bid_count ? labels.you_are_outbid : ""));
    $("your-max-line").hidden = you.your_max === null;
    text("deposit-state", labels.deposit_states[you.deposit_state] || you.deposit_state);
    text("your-max", you.your_max === null ? "" : clock.yuan(you.your_max));
    const choices = $("next-amounts");
    if (choices) {
      choices.replaceChildren(...state.next_amounts.map((amount) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "amount-choice";
        button.dataset.amount = amount;
        button.textContent = clock.yuan(amount);
        return button;
      }));
    }
  }

  function renderFigures() {
    const a = state.auction;
    text("price", clock.yuan(a.current_price));
    text("leader", a.leading_paddle === null ? "—" : String(a.leading_paddle));
    text("bid-count", a.bid_count === null ? "—" : String(a.bid_count));
    text("state", labels.states[a.state] || a.state);
    endsAtMs = Date.parse(a.ends_at);
    text("ends-at", clock.shanghaiTime(a.ends_at));
    $("ends-at").setAttribute("datetime", a.ends_at);
    if (a.ends_at !== a.scheduled_ends_at) {
      text("extended-to", clock.shanghaiTime(a.ends_at));
      $("extended").hidden = false;
    }
  }

  function render() {
    renderFigures();
    renderHistory();
    renderYou();
    renderOutcome();
  }

  async function reload() {
    if (reloading) return reloading;
    reloading = (async () => {
      try {
        const response = await fetch(`/auctions/${auctionId}/state`, { cache: "no-store", headers: { Accept: "application/json" } });
        if (!response.ok) return;
        state = await response.json();
        lastSequence = state.history.reduce((top, bid) => Math.max(top, bid.sequence), 0);
        render();
      } finally {
        reloading = null;
        const held = heldEvents;
        heldEvents = [];
        for (const [name, payload] of held) handle(name, payload);
      }
    })();
    return reloading;
  }

  function onBid(event) {
    if (event.sequence <= lastSequence) return;  // already shown (a reload caught it)
    lastSequence = event.sequence;
    const a = state.auction;
    a.current_price = event.current_price;
    a.leading_paddle = event.leading_paddle;
    a.bid_count = event.bid_count;
    a.ends_at = event.ends_at;
    a.reserve_met = event.reserve_met;
    if (a.state === "scheduled") a.state = "open";
    state.history.unshift({
      sequence: event.sequence, paddle: event.paddle, amount: event.amount,
      price_after: event.current_price, received_at: event.server_time,
    });
    $("history").prepend(historyRow(state.history[0]));
    $("no-bids").hidden = true;
    renderFigures();
    // A bidder's own standing (leading, its maximum, the next amounts) is read with its session.
    if (loggedIn) reload();
  }

  function onExtended(event) {
    state.auction.ends_at = event.ends_at;
    renderFigures();
  }

  function handle(name, payload) {
    if (payload.server_time) clock.observe(payload.server_time);
    if (reloading && name !== "heartbeat") { heldEvents.push([name, payload]); return; }
    if (name === "bid") onBid(payload);
    else if (name === "extended") onExtended(payload);
    else if (name === "closed" || name === "cancelled" || name === "sold" || name === "defaulted") reload();
  }

  let stream = null;
  let retryMs = 1000;

  function setConnection(ok) {
    const node = $("connection");
    node.textContent = ok ? labels.live_connected : labels.live_reconnecting;
    node.className = ok ? "connection ok" : "connection lost";
    root.dataset.connection = ok ? "live" : "lost";
  }

  function connect() {
    stream = new EventSource(`/api/v1/auctions/${auctionId}/events`);
    // Every (re)connection starts with "hello": reload, so what was missed while away is shown.
    stream.addEventListener("hello", () => { retryMs = 1000; setConnection(true); reload(); });
    for (const name of ["bid", "extended", "closed", "cancelled", "sold", "defaulted", "heartbeat"]) {
      stream.addEventListener(name, (message) => handle(name, JSON.parse(message.data)));
    }
    stream.onerror = () => {
      setConnection(false);
      if (stream.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an error answer): try again ourselves, backing off.
        stream.close();
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
      }
    };
  }

  function tick() {
    const msLeft = endsAtMs - clock.now();
    const shown = running() ? clock.countdown(msLeft, labels.day_unit) : "00:00:00";
    text("countdown", shown);
    // Screen readers hear the time left once a minute, then at 30, 10 and 5 seconds: not every tick.
    const secondsLeft = Math.max(0, Math.floor(msLeft / 1000));
    const announce = !running() ? shown
      : secondsLeft > 60 ? shown.slice(0, -3)
      : [60, 30, 10, 5, 0].includes(secondsLeft) ? shown : lastAnnounced;
    if (announce !== lastAnnounced) { lastAnnounced = announce; text("countdown-announce", shown); }
    if (running() && msLeft <= 0 && state.auction.state !== "closing") {
      state.auction.state = "closing";
      text("state", labels.states.closing);
    }
  }

  async function post(form, messageId) {
    const message = $(messageId);
    const submit = form.querySelector("button[type=submit]");
    message.textContent = "";  // the last answer goes, so the next one is news
    submit.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
      });
      let body;
      try { body = await response.json(); } catch (error) { body = { ok: false, message: response.statusText }; }
      message.textContent = body.message || body.detail || response.statusText;
      message.className = body.ok ? "message ok" : "message refused";
      return body;
    } catch (error) {
      message.textContent = labels.live_reconnecting;
      message.className = "message refused";
      return { ok: false };
    } finally {
      submit.disabled = false;
    }
  }

  const bidForm = $("bid-form");
  if (bidForm) {
    bidForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = await post(bidForm, "bid-message");
      if (body.ok) reload();
    });
    bidForm.addEventListener("click", (event) => {
      const choice = event.target.closest(".amount-choice");
      if (choice) { $("amount").value = choice.dataset.amount; $("amount").focus(); }
    });
  }
  const registerForm = $("register-form");
  if (registerForm) {
    registerForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = await post(registerForm, "register-message");
      if (body.ok) window.location.reload();
    });
  }

  clock.sync().then(tick);
  setInterval(tick, 250);
  connect();
})();

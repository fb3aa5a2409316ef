// The auction room, live: server-sent events move the price, the history, the end and the close
// in front of the reader; a dropped or silent stream reconnects and reloads the room to catch up.
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
  let lastAnnounceKey = null;
  const $ = (id) => document.getElementById(id);
  const running = () => ["scheduled", "open", "closing"].includes(state.auction.state);
  const hammered = (a) => ["awaiting_payment", "sold", "defaulted"].includes(a.state) && a.final_price !== null;
  // Nothing more can happen to a lot in these states: its stream is closed, not kept "live".
  const finished = () => ["sold", "unsold", "cancelled", "defaulted"].includes(state.auction.state);
  // A stream silent for this long is lost. The server sends a heartbeat after a heartbeat's
  // interval without events, checked once an interval, so a healthy stream can be quiet for
  // almost two intervals: a half more is the margin.
  const heartbeatMs = (Number(root.dataset.heartbeatS) || 15) * 1000;
  const silentForMs = heartbeatMs * 2.5;
  const sessionKey = `ipx-room-registered-${auctionId}`;

  function text(id, value) {
    const node = $(id);
    if (node && node.textContent !== value) node.textContent = value;
  }

  // "{label} {price}" with its fields: the labels' placeholders, as i18n.py writes them.
  function fill(template, fields) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in fields ? String(fields[name]) : whole));
  }

  // "1,310,000.00" or "¥1,310,000" as integer fen; NaN for anything else (the server judges it).
  function fen(amount) {
    const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount).replace(/[,，¥\s]/g, ""));
    return match ? Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0")) : NaN;
  }

  // Time left as words in the page's language: days and hours, or hours and minutes, or
  // minutes and seconds, so a screen reader says "剩余 4 分 59 秒", not digits and colons.
  function timeWords(secondsLeft) {
    const days = Math.floor(secondsLeft / 86400);
    const hours = Math.floor((secondsLeft % 86400) / 3600);
    const minutes = Math.floor((secondsLeft % 3600) / 60);
    const seconds = secondsLeft % 60;
    const unit = (name, n) => fill(labels.units[name][n === 1 ? 0 : 1], { n });
    const parts = [];
    if (days) parts.push(unit("day", days));
    if (hours) parts.push(unit("hour", hours));
    if (minutes && !days) parts.push(unit("minute", minutes));
    if (seconds && !days && !hours) parts.push(unit("second", seconds));
    return parts.length ? fill(labels.time_left_words, { time: parts.join(" ") }) : labels.countdown_ended;
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
    // Over: no form, no invitation to log in or register, but a line saying so.
    for (const id of ["bid-form", "register-form", "login-to-bid-line"]) {
      if ($(id)) $(id).hidden = true;
    }
    if ($("bidding-over")) $("bidding-over").hidden = false;
  }

  // The standing line, as room.html.j2 writes it: "outbid" only to one who bid; won or not at the end.
  function standing(a, you) {
    if (a.state === "awaiting_payment" || a.state === "sold") {
      if (a.winning_paddle === you.paddle) return labels.you_won_short;
      return state.viewer_has_bid ? labels.you_lost_short : "";
    }
    if (["unsold", "cancelled", "defaulted"].includes(a.state) || state.sealed_until_close) return "";
    if (you.leading) return labels.you_lead;
    return state.viewer_has_bid ? labels.you_are_outbid : labels.you_have_not_bid;
  }

  // The amount field follows the minimum valid amount, unless the person is typing in it (focus
  // and an edited value), or edited it to an amount that is still valid.
  let amountEdited = false;
  function followMinimum() {
    const input = $("amount");
    if (!input || !state.next_amounts.length || !running()) return;
    const minimum = state.next_amounts[0];
    if (amountEdited) {
      if (document.activeElement === input) return;
      const typed = fen(input.value);
      if (Number.isNaN(typed) || typed >= fen(minimum)) return;
    }
    input.value = minimum;
    amountEdited = false;
  }

  function renderYou() {
    const you = state.auction.you;
    if (!you || !$("you-leading")) return;
    text("you-leading", standing(state.auction, you));
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
    followMinimum();
  }

  // The sentence a screen reader hears when the price moves: the label, the figure, the leader.
  function priceSentence(a, priceLabel) {
    if (a.state === "unsold") return labels.outcome_unsold;
    if (a.state === "cancelled") return labels.outcome_cancelled;
    if (hammered(a)) {
      return fill(labels.announce_sold, { price: clock.yuan(a.final_price), paddle: a.winning_paddle ?? "—" });
    }
    if (a.current_price === null) return "";
    if (a.leading_paddle === null) return fill(labels.announce_no_leader, { label: priceLabel, price: clock.yuan(a.current_price) });
    return fill(labels.announce_price, { label: priceLabel, price: clock.yuan(a.current_price), paddle: a.leading_paddle });
  }

  function renderFigures() {
    const a = state.auction;
    const over = ["awaiting_payment", "sold", "defaulted", "unsold", "cancelled"].includes(a.state);
    const priceLabel = over ? labels.final_price : labels.current_price;
    text("price-label", priceLabel);
    text("price", a.state === "unsold" ? labels.outcome_unsold
      : a.state === "cancelled" ? labels.outcome_cancelled
      : clock.yuan(hammered(a) ? a.final_price : a.current_price));
    text("price-announce", priceSentence(a, priceLabel));
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
    if (finished()) closeStream();
    else if (!running()) showConnection();
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
    // A bidder's own standing (leading, its maximum, the next amounts) is read with its session;
    // a watcher's next amounts are not shown, and the amount field is a bidder's alone.
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
  let connected = false;
  let retryMs = 1000;
  let lastHeardMs = performance.now();

  // "Live" only while the lot runs: an ended lot's status line claims nothing.
  function showConnection() {
    const node = $("connection");
    const shown = running() ? (connected ? labels.live_connected : labels.live_reconnecting) : "";
    if (node.textContent !== shown) node.textContent = shown;
    node.className = !running() ? "connection" : connected ? "connection ok" : "connection lost";
    root.dataset.connection = connected ? "live" : "lost";
  }

  function setConnection(ok) {
    connected = ok;
    showConnection();
  }

  function closeStream() {
    if (stream) stream.close();
    stream = null;
    connected = false;
    showConnection();
  }

  function connect() {
    if (finished()) return;
    const opened = new EventSource(`/api/v1/auctions/${auctionId}/events`);
    stream = opened;
    lastHeardMs = performance.now();
    const heard = () => { if (stream === opened) lastHeardMs = performance.now(); };
    // Every (re)connection starts with "hello": reload, so what was missed while away is shown.
    opened.addEventListener("hello", () => { heard(); retryMs = 1000; setConnection(true); reload(); });
    for (const name of ["bid", "extended", "closed", "cancelled", "sold", "defaulted", "heartbeat"]) {
      opened.addEventListener(name, (message) => { heard(); handle(name, JSON.parse(message.data)); });
    }
    opened.onerror = () => {
      if (stream !== opened) return;
      setConnection(false);
      if (opened.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an error answer): try again ourselves, backing off.
        opened.close();
        setTimeout(() => { if (stream === opened) connect(); }, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
      }
    };
  }

  // A stream can stall without closing (a mobile hand-over, a buffering proxy): no event and no
  // heartbeat for a few heartbeats is a lost connection. Say so, and open a new stream, whose
  // "hello" reloads the room.
  function watchStream() {
    if (!stream || stream.readyState === EventSource.CLOSED) return;
    if (performance.now() - lastHeardMs <= silentForMs) return;
    setConnection(false);
    stream.close();
    connect();
  }

  function tick() {
    const msLeft = endsAtMs - clock.now();
    const counting = running() && msLeft > 0;
    text("countdown", counting ? clock.countdown(msLeft, labels.day_unit) : labels.countdown_ended);
    // Screen readers hear the time left in words: when the words change above an hour, once a
    // minute below it, then at 30, 10 and 5 seconds; not every tick.
    const secondsLeft = counting ? Math.max(0, Math.floor(msLeft / 1000)) : 0;
    const key = !counting ? "over"
      : secondsLeft > 3600 ? timeWords(secondsLeft)
      : secondsLeft > 60 ? `minute ${Math.floor(secondsLeft / 60)}`
      : [60, 30, 10, 5].includes(secondsLeft) ? `second ${secondsLeft}` : lastAnnounceKey;
    if (key !== lastAnnounceKey) {
      if (lastAnnounceKey !== null) text("countdown-announce", timeWords(secondsLeft));
      lastAnnounceKey = key;
    }
    if (running() && msLeft <= 0 && state.auction.state !== "closing") {
      state.auction.state = "closing";
      text("state", labels.states.closing);
    }
  }

  function link(label, href) {
    const anchor = document.createElement("a");
    anchor.href = href;
    anchor.textContent = label;
    return anchor;
  }

  // level: "ok", "warning" (accepted, yet not where the bidder hoped: outbid at once) or "refused".
  function say(message, level, sentence, ...extra) {
    message.replaceChildren(sentence, ...extra.flatMap((node) => [" ", node]));
    message.className = `message ${level}`;
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
      if (response.status === 403 && body.type) {
        // The pages' CSRF refusal, a problem document: the form's token is stale (a restart, a
        // cleared cookie). Its detail is in the page's language; a reload gives a fresh form.
        say(message, "refused", body.detail, link(labels.reload_page, window.location.href));
        return { ok: false, code: "form_expired" };
      }
      if (body.code === "login_required" && loggedIn) {
        // The page was opened logged in, and the session has gone since (logged out elsewhere,
        // expired): say so, with the way back to this room.
        const here = window.location.pathname + window.location.search;
        say(message, "refused", labels.login_expired, link(labels.log_in_again, `/login?next=${encodeURIComponent(here)}`));
        return body;
      }
      const level = !body.ok ? "refused" : body.level === "warning" ? "warning" : "ok";
      say(message, level, body.message || body.detail || response.statusText);
      return body;
    } catch (error) {
      say(message, "refused", labels.live_reconnecting);
      return { ok: false };
    } finally {
      submit.disabled = false;
    }
  }

  const bidForm = $("bid-form");
  if (bidForm) {
    $("amount").addEventListener("input", () => { amountEdited = true; });
    bidForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const offer = $("bid-offer");
      offer.replaceChildren();
      offer.hidden = true;
      const body = await post(bidForm, "bid-message");
      if (body.ok) amountEdited = false;  // that amount is spent: the field moves on to the next minimum
      if (body.ok || body.code === "below_minimum" || body.code === "closed") await reload();
      if (body.code === "below_minimum" && state.next_amounts.length) {
        // The refusal offers the minimum in one click, as the amount choices do.
        const minimum = state.next_amounts[0];
        const choice = document.createElement("button");
        choice.type = "button";
        choice.className = "amount-choice";
        choice.dataset.amount = minimum;
        choice.textContent = fill(labels.use_minimum, { minimum: clock.yuan(minimum) });
        offer.replaceChildren(choice);
        offer.hidden = false;
      }
    });
    bidForm.addEventListener("click", (event) => {
      const choice = event.target.closest(".amount-choice");
      if (choice) { $("amount").value = choice.dataset.amount; amountEdited = true; $("amount").focus(); }
    });
  }
  const registerForm = $("register-form");
  if (registerForm) {
    registerForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = await post(registerForm, "register-message");
      if (!body.ok) return;
      // The page reloads to show the bid form; the confirmation, with the deposit now held, is
      // shown on the page it reloads to.
      const deposit = state.auction.deposit;
      const confirmation = fen(deposit) > 0
        ? fill(labels.registered_deposit_held, { registered: body.message, deposit: clock.yuan(deposit) })
        : body.message;
      try { window.sessionStorage.setItem(sessionKey, confirmation); } catch (error) { /* no storage: no confirmation */ }
      window.location.reload();
    });
  }
  try {
    const confirmation = window.sessionStorage.getItem(sessionKey);
    window.sessionStorage.removeItem(sessionKey);
    if (confirmation && $("registered")) $("registered").textContent = confirmation;
  } catch (error) {
    // No storage (a private window may refuse it): the deposit state line still says "held".
  }

  showConnection();
  clock.sync().then(tick);
  setInterval(tick, 250);
  setInterval(watchStream, 1000);
  connect();
})();

// Chat room client: one WebSocket per page. It reconnects with backoff and jitter, keeps what the
// person sends until it comes back from the server, and on each reconnect fetches what it missed
// before it sends again what never came back, so a deploy or a Redis restart costs no message.
// The room numbers its messages 1, 2, 3, ... (seq): the client holds them in order up to `held`,
// and fetches after `held` on every reconnect and whenever a number is skipped. A message's nonce
// lets the server store it once, however often it is sent.
(function () {
  "use strict";
  const log = document.getElementById("chat-log");
  const state = document.getElementById("connection");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-message-input");
  const nameInput = document.getElementById("chat-name-input");
  const room = log.dataset.room;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}/ws/chat/${encodeURIComponent(room)}/`;
  const seen = new Set(Array.from(log.querySelectorAll("li[data-id]"), (item) => Number(item.dataset.id)));
  const outbox = new Map(); // nonce -> message: sent, or to send, and not yet seen come back
  const numbers = Array.from(log.querySelectorAll("li[data-seq]"), (item) => Number(item.dataset.seq)).filter(Boolean);
  let held = Math.max(0, ...numbers); // every message up to this number is on the page
  const ahead = new Set(); // numbers above `held` that came before the ones below them
  let gapTimer = null;
  let socket = null;
  let attempt = 0;
  let catchingUp = null; // live messages held while the missed ones are fetched

  nameInput.value = window.localStorage.getItem("chat-name") || "";
  nameInput.addEventListener("change", () => window.localStorage.setItem("chat-name", nameInput.value.trim()));

  function show(text, kind) {
    state.textContent = text;
    state.className = `state ${kind}`;
  }

  function clock(element) {
    element.textContent = new Date(element.dateTime).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return element;
  }

  function time(iso) {
    const element = document.createElement("time");
    element.dateTime = iso;
    return clock(element);
  }

  // The history the server rendered, in the reader's own time zone too.
  log.querySelectorAll("time[datetime]").forEach(clock);

  // In id order: a message caught up after a live one still lands where it belongs.
  function add(message) {
    if (message.nonce) outbox.delete(message.nonce);
    if (typeof message.id !== "number" || seen.has(message.id)) return;
    seen.add(message.id);
    hold(message.seq);
    const item = document.createElement("li");
    item.dataset.id = String(message.id);
    item.dataset.seq = message.seq ? String(message.seq) : "";
    item.append(time(message.created));
    if (message.name) {
      const author = document.createElement("b");
      author.className = "author";
      author.textContent = message.name;
      item.append(" ", author);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.message;
    item.append(text);
    // In the room's order: a message caught up after a live one still lands where it belongs.
    const last = log.lastElementChild;
    const later =
      message.seq && last && Number(last.dataset.seq) > message.seq
        ? Array.from(log.children).find((other) => Number(other.dataset.seq) > message.seq)
        : null;
    log.insertBefore(item, later);
    item.scrollIntoView({ block: "nearest" });
  }

  function hold(seq) {
    if (typeof seq !== "number" || seq <= held) return;
    ahead.add(seq);
    while (ahead.delete(held + 1)) held += 1;
    // A number skipped: the missing message may still be on its way from another replica; if it
    // is not here within a second, fetch it.
    if (ahead.size && !gapTimer) {
      gapTimer = window.setTimeout(() => {
        gapTimer = null;
        if (ahead.size && online()) catchUp().catch((error) => console.warn(error));
      }, 1000);
    }
  }

  async function catchUp() {
    catchingUp = [];
    try {
      let after = held;
      for (let more = true; more; ) {
        const response = await fetch(`${log.dataset.messagesUrl}?after=${after}`, { cache: "no-store" });
        if (!response.ok) throw new Error(`catch-up: HTTP ${response.status}`);
        const page = await response.json();
        page.messages.forEach(add);
        more = page.more && page.messages.length > 0;
        if (more) after = page.messages[page.messages.length - 1].seq;
      }
    } finally {
      const live = catchingUp;
      catchingUp = null;
      live.forEach(add);
    }
  }

  function online() {
    return socket && socket.readyState === WebSocket.OPEN && !catchingUp;
  }

  // Everything not yet seen come back, in the order it was written.
  function flush() {
    if (online()) {
      outbox.forEach((message) => socket.send(JSON.stringify(message)));
    } else if (outbox.size && !(socket && socket.readyState === WebSocket.OPEN)) {
      show(`offline, ${outbox.size} to send`, "offline"); // sent once caught up, when open
    }
  }

  function nonce() {
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function connect() {
    show(attempt ? "reconnecting…" : "connecting…", "connecting");
    socket = new WebSocket(url);
    const opened = socket;
    socket.addEventListener("open", async () => {
      attempt = 0;
      show("connected", "connected");
      // During a deploy the first try may meet a replica on its way out: a few more, then the
      // live stream runs on and the next reconnect tries again.
      for (let tries = 1; tries <= 3 && opened === socket; tries += 1) {
        try {
          await catchUp();
          break;
        } catch (error) {
          console.warn(error);
          await new Promise((resolve) => window.setTimeout(resolve, 500 * tries));
        }
      }
      if (opened === socket) flush();
    });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.error) {
        show(data.error, "error");
      } else if (catchingUp) {
        catchingUp.push(data);
      } else {
        add(data);
      }
    });
    socket.addEventListener("close", (event) => {
      // 1012 (service restart) is a deploy: come back soon. Otherwise back off, to 30 s at most;
      // the jitter keeps a room's clients from reconnecting all at once.
      const base = event.code === 1012 ? 250 : Math.min(30000, 500 * 2 ** attempt);
      const delay = base * (0.5 + Math.random());
      attempt += 1;
      show(`offline, reconnecting in ${Math.ceil(delay / 1000)} s`, "offline");
      window.setTimeout(connect, delay);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const message = { message: text, name: nameInput.value.trim(), nonce: nonce() };
    outbox.set(message.nonce, message);
    input.value = "";
    if (online()) socket.send(JSON.stringify(message));
    else flush();
  });

  connect();
})();

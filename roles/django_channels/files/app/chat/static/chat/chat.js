// Chat room client: one WebSocket per page, messages appended as they arrive.
(function () {
  "use strict";
  const log = document.getElementById("chat-log");
  const room = log.dataset.room;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/chat/${encodeURIComponent(room)}/`);
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (!data.message) return;
    const item = document.createElement("li");
    item.textContent = data.message;
    log.appendChild(item);
  };
  document.getElementById("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("chat-message-input");
    socket.send(JSON.stringify({ message: input.value }));
    input.value = "";
  });
})();

"""People chatting while something happens to the stack: clients that speak the chat page's protocol
(chat.js), reconnecting with its backoff, catching up from the messages URL and sending again what
they never saw come back, the nonce keeping it stored once. After the run every client of a room
must have seen every message anyone in the room sent.

    with Chatters("https://localhost:8443", clients=50, rooms=5) as chat:
        ...  # roll, restart, break something
    report = chat.report()  # lost, sent, reconnect times
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import websockets
from stack import insecure_tls
from websockets.exceptions import ConnectionClosed, WebSocketException

# What chat.js does: soon after a 1012 (service restart), else exponential, with jitter.
RESTART_CODE = 1012
# chat.js too: a number skipped and not filled within this many seconds is fetched.
GAP_WAIT = 1.0


def backoff(code: int | None, attempt: int) -> float:
    base = 0.25 if code == RESTART_CODE else min(30.0, 0.5 * 2**attempt)
    return base * (0.5 + random.random())


@dataclass
class Client:
    number: int
    room: str
    seen: dict[str, int] = field(default_factory=dict)  # nonce -> id
    held: int = 0  # every message of the room up to this number (seq) was seen
    ahead: set[int] = field(default_factory=set)  # numbers seen above `held`
    gap_since: float | None = None
    unacked: dict[str, dict[str, str]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)  # nonces, in order
    close_codes: list[int | None] = field(default_factory=list)
    reconnect_s: list[float] = field(default_factory=list)  # closed -> open again and caught up
    errors: list[str] = field(default_factory=list)
    gap_fills: int = 0

    def saw(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("id"), int):
            if event.get("nonce"):
                self.seen[event["nonce"]] = event["id"]
                self.unacked.pop(event["nonce"], None)
            seq = event.get("seq")
            if isinstance(seq, int) and seq > self.held:
                self.ahead.add(seq)
                while self.held + 1 in self.ahead:
                    self.held += 1
                    self.ahead.discard(self.held)
                self.gap_since = (self.gap_since or time.monotonic()) if self.ahead else None

    def gap_open(self) -> bool:
        """A number skipped for longer than the page waits before it fetches."""
        return self.gap_since is not None and time.monotonic() - self.gap_since > GAP_WAIT


@dataclass
class Report:
    clients: int
    rooms: int
    sent: int
    lost: int
    missed_live: int
    reconnects: int
    reconnect_p50_s: float
    reconnect_p99_s: float
    close_codes: dict[str, int]
    failed_attempts: Counter[str]
    gap_fills: int
    missing: list[str]

    def summary(self) -> str:
        return (
            f"{self.clients} clients in {self.rooms} rooms: {self.sent} messages sent, {self.lost} lost "
            f"({self.missed_live} deliveries missed before the last catch-up); "
            f"{self.reconnects} reconnects, p50 {self.reconnect_p50_s:.2f} s, p99 {self.reconnect_p99_s:.2f} s; "
            f"close codes {self.close_codes}; failed attempts {sum(self.failed_attempts.values())}"
            f" {dict(self.failed_attempts.most_common(3))}; {self.gap_fills} catch-ups for a skipped number"
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Chatters:
    """`clients` people in `rooms` rooms, each sending a message every `interval` s (jittered)
    from start until stop, in a thread of their own."""

    def __init__(self, base_url: str, clients: int = 50, rooms: int = 5, interval: float = 1.0) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http", "ws", 1)
        self.tls = insecure_tls() if base_url.startswith("https") else None
        run = uuid.uuid4().hex[:8]
        self.clients = [Client(i, f"roll-{run}-{i % rooms}") for i in range(clients)]
        self.rooms = rooms
        self.interval = interval
        self.sending = threading.Event()
        self.stopping = threading.Event()
        self.connected = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    def __enter__(self) -> Chatters:
        self.thread.start()
        deadline = time.monotonic() + 60
        while self.connected < len(self.clients):  # everyone in before anything happens
            assert time.monotonic() < deadline, f"{self.connected} of {len(self.clients)} clients connected"
            time.sleep(0.1)
        self.sending.set()
        time.sleep(2 * self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sending.clear()
        # What is in flight lands: every sender saw its messages come back (a backlog on a busy
        # machine is slow, not lost), then a moment for the other clients of their rooms.
        deadline = time.monotonic() + 60
        while any(client.unacked for client in self.clients) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2 * self.interval)
        self.stopping.set()
        self.thread.join(120)
        assert not self.thread.is_alive(), "the clients stopped"

    def _missed(self, room: str, after: int) -> list[dict[str, Any]]:
        """The room's messages numbered after `after`, every page (a plain function: run in a thread,
        its events are applied by the caller)."""
        events: list[dict[str, Any]] = []
        while True:
            response = requests.get(
                f"{self.base_url}/chat/{room}/messages/", params={"after": after}, verify=False, timeout=10
            )
            response.raise_for_status()
            page = response.json()
            events += page["messages"]
            if not page["more"] or not page["messages"]:
                return events
            after = page["messages"][-1]["seq"]

    async def _catch_up(self, client: Client) -> None:
        for event in await asyncio.to_thread(self._missed, client.room, client.held):
            client.saw(event)

    async def _client(self, client: Client) -> None:
        attempt, closed_at, counted = 0, None, False
        while not self.stopping.is_set():
            code = None
            try:
                async with websockets.connect(
                    f"{self.ws_url}/ws/chat/{client.room}/",
                    ssl=self.tls,
                    origin=self.base_url,
                    open_timeout=10,
                ) as socket:
                    await self._catch_up(client)
                    for message in list(client.unacked.values()):
                        await socket.send(json.dumps(message))
                    if closed_at is not None:
                        client.reconnect_s.append(time.monotonic() - closed_at)
                    attempt, closed_at = 0, None
                    if not counted:
                        counted, self.connected = True, self.connected + 1
                    await self._chat(client, socket)
                    code = socket.close_code
            except (OSError, TimeoutError, WebSocketException, requests.RequestException) as error:
                if isinstance(error, ConnectionClosed):
                    code = error.rcvd.code if error.rcvd else None
                else:  # the connection or its catch-up failed: no socket was closed
                    client.errors.append(f"{error.__class__.__name__}: {error}"[:120])
                    code = -1
            if self.stopping.is_set():
                return
            if code != -1:
                client.close_codes.append(code)
            closed_at = closed_at or time.monotonic()
            attempt += 1
            await asyncio.sleep(backoff(code, attempt - 1))

    async def _chat(self, client: Client, socket: Any) -> None:
        """Until the socket closes or the run stops: receive, and send now and then."""

        async def receive() -> None:
            try:
                async for raw in socket:
                    client.saw(json.loads(raw))
            except ConnectionClosed:
                pass

        receiver = asyncio.create_task(receive())
        try:
            while not self.stopping.is_set() and not receiver.done():
                await asyncio.wait([receiver], timeout=self.interval * (0.5 + random.random()))
                if client.gap_open():
                    await self._catch_up(client)
                    client.gap_fills += 1
                if self.sending.is_set() and not receiver.done():
                    nonce = uuid.uuid4().hex
                    message = {
                        "message": f"{client.number} {nonce[:8]}",
                        "name": f"c{client.number}",
                        "nonce": nonce,
                    }
                    client.unacked[nonce] = message
                    client.sent.append(nonce)
                    await socket.send(json.dumps(message))
        finally:
            receiver.cancel()

    async def _main(self) -> None:
        await asyncio.gather(*(self._client(client) for client in self.clients))

    def _room_sent(self, client: Client) -> set[str]:
        return {nonce for other in self.clients if other.room == client.room for nonce in other.sent}

    def report(self) -> Report:
        """Which message a client of its room never saw, live or caught up on reconnect (missed_live),
        and after one more catch-up (lost)."""
        missed_live = sum(len(self._room_sent(client) - set(client.seen)) for client in self.clients)
        for client in self.clients:
            for event in self._missed(client.room, client.held):
                client.saw(event)
        stored: dict[str, dict[str, int]] = {}  # room -> nonce -> id, the whole history
        for room in {client.room for client in self.clients}:
            stored[room] = {event["nonce"]: event["id"] for event in self._missed(room, 0) if event["nonce"]}
        missing = []
        for client in self.clients:
            for nonce in sorted(self._room_sent(client) - set(client.seen)):
                found = stored[client.room].get(nonce)
                where = f"stored as id {found}" if found else "never stored"
                missing.append(
                    f"client {client.number} ({client.room}, held {client.held}) never saw {nonce}: {where}"
                )
        times = [seconds for client in self.clients for seconds in client.reconnect_s]
        codes: dict[str, int] = {}
        for client in self.clients:
            for code in client.close_codes:
                codes[str(code)] = codes.get(str(code), 0) + 1
        return Report(
            clients=len(self.clients),
            rooms=self.rooms,
            sent=sum(len(client.sent) for client in self.clients),
            lost=len(missing),
            missed_live=missed_live,
            reconnects=len(times),
            reconnect_p50_s=round(percentile(times, 50), 3),
            reconnect_p99_s=round(percentile(times, 99), 3),
            close_codes=codes,
            failed_attempts=Counter(error for client in self.clients for error in client.errors),
            gap_fills=sum(client.gap_fills for client in self.clients),
            missing=missing[:20],
        )

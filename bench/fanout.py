"""WebSocket fan-out: C clients in R chat rooms; M messages sent by clients in turn, at most W in
flight; every client of the room (the sender included) must receive each. Reports delivered messages/s, end-to-end latency (send ->
each receiver) percentiles and lost deliveries.

python bench/fanout.py ws://localhost:8080 --connections 100 --rooms 10 --messages 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import websockets


@dataclass
class FanoutResult:
    connections: int
    rooms: int
    messages: int
    expected: int
    delivered: int
    lost: int
    seconds: float
    delivered_per_s: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _run(
    url: str, connections: int, rooms: int, messages: int, window: int, origin: str, timeout: float
) -> FanoutResult:
    run = uuid.uuid4().hex[:8]
    room_of = [i % rooms for i in range(connections)]
    members = [[i for i in range(connections) if room_of[i] == r] for r in range(rooms)]
    sockets: list[Any] = []
    for i in range(connections):  # connect in order: the handshakes are part of the load, not measured
        sockets.append(await websockets.connect(f"{url}/ws/chat/bench-{run}-{room_of[i]}/", origin=origin))
    sent_at: dict[str, float] = {}
    pending: dict[str, int] = {}  # receivers each message still has to reach
    window_free = asyncio.Semaphore(window)
    latencies: list[float] = []
    expected = sum(len(members[room_of[i % connections]]) for i in range(messages))
    done = asyncio.Event()

    async def receive(socket: Any) -> None:
        async for raw in socket:
            stamp = time.perf_counter()
            text = json.loads(raw)["message"]
            if text in pending:
                latencies.append((stamp - sent_at[text]) * 1000)
                pending[text] -= 1
                if pending[text] == 0:
                    del pending[text]
                    window_free.release()
                if len(latencies) >= expected:
                    done.set()

    receivers = [asyncio.create_task(receive(socket)) for socket in sockets]
    start = time.perf_counter()
    for n in range(messages):
        # At most `window` messages in flight: the rate measured is what the stack sustains, not
        # how deep its queues are (channels_redis drops what exceeds a channel's capacity).
        await window_free.acquire()
        text = f"{run}-{n}"
        sent_at[text] = time.perf_counter()
        pending[text] = len(members[room_of[n % connections]])
        await sockets[n % connections].send(json.dumps({"message": text}))
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass
    seconds = time.perf_counter() - start
    for task in receivers:
        task.cancel()
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    return FanoutResult(
        connections=connections,
        rooms=rooms,
        messages=messages,
        expected=expected,
        delivered=len(latencies),
        lost=expected - len(latencies),
        seconds=round(seconds, 3),
        delivered_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(latencies), 2) if latencies else float("nan"),
        p99_ms=round(percentile(latencies, 99), 2),
    )


def fanout(
    url: str,
    connections: int,
    rooms: int,
    messages: int,
    window: int = 0,
    origin: str = "http://localhost",
    timeout: float = 60,
) -> FanoutResult:
    """window: messages in flight at most (default: one per room)."""
    return asyncio.run(_run(url, connections, rooms, messages, window or rooms, origin, timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="ws://host:port")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--window", type=int, default=0, help="messages in flight at most (default: rooms)")
    parser.add_argument("--origin", default="http://localhost")
    args = parser.parse_args()
    result = fanout(args.url, args.connections, args.rooms, args.messages, args.window, args.origin)
    print(json.dumps(asdict(result), indent=2))


if __name__ == "__main__":
    main()

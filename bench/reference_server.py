"""The reference the WebSocket figures are taken against: one bare asyncio `websockets` process
speaking the chat's protocol (ws://HOST:PORT/ws/chat/<room>/; each JSON {"message": text} is sent
to every socket of the room as {"id", "message", "name", "nonce", "created"}), with no Django,
Redis, database or proxy. What the stack delivers is measured as a share of what this delivers,
with the same client (bench/fanout.py) on the same machine in the same run.

python bench/reference_server.py --port 18690
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOM_PATH = re.compile(r"^/ws/chat/([^/]{1,64})/$")
rooms: dict[str, set[ServerConnection]] = defaultdict(set)
ids = itertools.count(1)


async def chat(socket: ServerConnection) -> None:
    match = ROOM_PATH.match(socket.request.path if socket.request else "")
    if not match:
        await socket.close(1008, "not a room")
        return
    members = rooms[match.group(1)]
    members.add(socket)
    try:
        async for raw in socket:
            content: Any = json.loads(raw)
            event = {
                "id": next(ids),
                "message": content.get("message", ""),
                "name": content.get("name", ""),
                "nonce": content.get("nonce", ""),
                "created": datetime.now(UTC).isoformat(),
            }
            broadcast(members, json.dumps(event))
    finally:
        members.discard(socket)


async def main(host: str, port: int) -> None:
    async with serve(chat, host, port, max_queue=None) as server:
        print(f"reference server on ws://{host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18690)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))

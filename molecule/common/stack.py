"""Looking at a deployed stack from the host and from a client: what the scenarios' tests share."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import websockets


def container_names(v: dict[str, Any]) -> dict[str, str]:
    stack = v["stack_name"]
    return {
        "mysql": f"{stack}-mysql",
        "redis": f"{stack}-redis",
        "nginx": f"{stack}-nginx",
        **{f"app-{i}": f"{stack}-app-{i}" for i in range(1, int(v["django_channels_replicas"]) + 1)},
    }


def inspect(host: Any, name: str) -> dict[str, Any]:
    return json.loads(host.check_output(f"docker inspect {name}"))[0]


def mysql_query(
    host: Any, v: dict[str, Any], names: dict[str, str], sql: str, password: str | None = None
) -> Any:
    """Run SQL as the app user, over TCP inside the MySQL container (the server is not published)."""
    password = v["stack_db_password"] if password is None else password
    return host.run(
        f"docker exec -e MYSQL_PWD={password} {names['mysql']} "
        f'mariadb --protocol=TCP -h 127.0.0.1 -u {v["stack_db_user"]} -D {v["stack_db_name"]} -N -B -e "{sql}"'
    )


def redis_cli(
    host: Any, v: dict[str, Any], names: dict[str, str], command: str, password: str | None = None
) -> Any:
    password = v["stack_redis_password"] if password is None else password
    return host.run(f"docker exec -e REDISCLI_AUTH={password} {names['redis']} redis-cli {command}")


def wait_until_healthy(host: Any, names: dict[str, str], timeout: float = 180) -> float:
    """Wait until every container runs healthy; return how long it took."""
    start = time.monotonic()
    while True:
        states = {name: inspect(host, name)["State"] for name in names.values()}
        if all(s["Running"] and s.get("Health", {}).get("Status") == "healthy" for s in states.values()):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(
                {name: (s["Status"], s.get("Health", {}).get("Status")) for name, s in states.items()}
            )
        time.sleep(1)


def insecure_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the scenarios' self-signed certificate
    return context


async def _chat(base_url: str, room: str, texts: list[str], clients: int) -> list[list[str]]:
    url = base_url.replace("http", "ws", 1) + f"/ws/chat/{room}/"
    tls = insecure_tls() if url.startswith("wss://") else None
    sockets = [await websockets.connect(url, ssl=tls, origin=base_url) for _i in range(clients)]
    try:
        for text in texts:
            await sockets[0].send(json.dumps({"message": text}))
        return [
            [json.loads(await asyncio.wait_for(socket.recv(), 10))["message"] for _i in texts]
            for socket in sockets
        ]
    finally:
        for socket in sockets:
            await socket.close()


def chat(base_url: str, room: str, texts: list[str], clients: int = 2) -> list[list[str]]:
    """Send the texts from the first of several WebSocket clients in a room; return what each received."""
    return asyncio.run(_chat(base_url, room, texts, clients))

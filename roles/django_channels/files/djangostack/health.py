"""The app's health: its database answers a query and its channel layer carries a message.

python -m djangostack.health URL        an app server's health endpoint answers 2xx
python -m djangostack.health --services  the check itself, in a process of its own (a worker's)
"""

import asyncio
import os
import sys
import urllib.error
import urllib.request
import uuid

TIMEOUT = float(os.environ.get("DJANGOSTACK_HEALTH_TIMEOUT", "4"))


def database() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def channel_layer() -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    # The default prefix: the process's consumers block on that one list in Redis (channels_redis),
    # so the message wakes them. Under a prefix of its own it waited behind their 5 s BZPOPMIN and
    # timed out whenever a WebSocket was connected.
    channel = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "djangostack.health", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), TIMEOUT)  # a timeout unsubscribes it
    if "pubsub" in type(layer).__module__:
        # The pub/sub layer unsubscribes a channel only when a receive on it is cancelled (a
        # consumer that leaves); without this every check would leave a subscription behind.
        leave = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)
        leave.cancel()
        await asyncio.gather(leave, return_exceptions=True)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")


def report(status: dict[str, str], name: str, error: BaseException | None) -> None:
    status[name] = "ok" if error is None else f"error: {error.__class__.__name__}: {error}"


async def check() -> tuple[bool, dict[str, str]]:
    """Both checks, from an event loop (the health endpoint's)."""
    from channels.db import database_sync_to_async

    # Side by side: one after the other, two slow answers could add up past the container
    # healthcheck's timeout and fail it with no word of which service was slow.
    probes = {"database": database_sync_to_async(database)(), "channel_layer": channel_layer()}
    results = await asyncio.gather(
        *(asyncio.wait_for(probe, TIMEOUT) for probe in probes.values()), return_exceptions=True
    )
    status: dict[str, str] = {}
    for name, result in zip(probes, results, strict=True):
        report(status, name, result if isinstance(result, BaseException) else None)
    return all(value == "ok" for value in status.values()), status


def main(argv: list[str]) -> int:
    if argv == ["--services"]:
        from djangostack import prepare

        prepare(os.environ)
        import django

        django.setup()
        healthy, status = asyncio.run(check())
        print(status)
        return 0 if healthy else 1
    headers = {"Host": os.environ.get("DJANGOSTACK_HEALTH_HOST", "localhost")}
    if os.environ.get("DJANGO_SECURE_SSL_REDIRECT") == "true":
        headers["X-Forwarded-Proto"] = "https"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(argv[0], headers=headers), timeout=TIMEOUT
        ) as response:
            print(response.status, response.read(500).decode(errors="replace"))
            return 0
    except urllib.error.HTTPError as error:  # the body says which service failed, and how
        print(f"{argv[0]}: {error.code} {error.read(500).decode(errors='replace')}")
        return 1
    except Exception as error:  # noqa: BLE001 - the health check reports why, and fails
        print(f"{argv[0]}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

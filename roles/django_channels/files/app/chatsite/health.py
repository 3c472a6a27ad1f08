"""/healthz (database + channel layer) and the header that names the serving container."""

import os
import socket
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HOSTNAME = socket.gethostname()
# The deployed version (the image reference), set by the django_channels role.
VERSION = os.environ.get("DJANGO_APP_VERSION", "unknown")


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


def check() -> tuple[bool, dict[str, str]]:
    """Check every backing service; return (healthy, per-service status)."""
    status: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        status["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        status["database"] = f"error: {exc.__class__.__name__}: {exc}"
    try:
        async_to_sync(_channel_layer_roundtrip)()
        status["channel_layer"] = "ok"
    except Exception as exc:  # noqa: BLE001
        status["channel_layer"] = f"error: {exc.__class__.__name__}: {exc}"
    return all(value == "ok" for value in status.values()), status


class HealthCheckMiddleware:
    """Answer /healthz before host validation, so probes on 127.0.0.1 need no ALLOWED_HOSTS entry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz":
            return self.get_response(request)
        healthy, status = check()
        response = JsonResponse(
            {"status": "ok" if healthy else "error", "host": HOSTNAME, "version": VERSION, **status},
            status=200 if healthy else 503,
        )
        response["Cache-Control"] = "no-store"
        response["X-Served-By"] = HOSTNAME
        response["X-App-Version"] = VERSION
        return response


class ServedByMiddleware:
    """Tell which app container, and which version, served a response (the Molecule scenarios use it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Served-By"] = HOSTNAME
        response["X-App-Version"] = VERSION
        return response

"""The ASGI application every app server runs: the project's own (DJANGOSTACK_ASGI_APPLICATION,
module:attribute), with the health endpoint on DJANGOSTACK_HEALTH_PATH answered before it, so
that no code, URL or ALLOWED_HOSTS entry of the project is needed for it."""

import json
import os
import socket
from importlib import import_module

from djangostack import prepare

prepare(os.environ)
_module, _colon, _attribute = os.environ["DJANGOSTACK_ASGI_APPLICATION"].partition(":")
project_application = getattr(import_module(_module), _attribute or "application")

from djangostack.health import check  # noqa: E402 - Django is set up by the project's application

HEALTH_PATH = os.environ.get("DJANGOSTACK_HEALTH_PATH", "/_djangostack/health")
WRAPPED = os.environ.get("DJANGOSTACK_HEALTH_WRAP", "true") == "true"
HOSTNAME = socket.gethostname()
VERSION = os.environ.get("DJANGO_APP_VERSION", "unknown")


async def application(scope: dict, receive, send) -> None:  # noqa: ANN001 - ASGI callables
    if not (WRAPPED and scope["type"] == "http" and scope["path"] == HEALTH_PATH):
        await project_application(scope, receive, send)
        return
    healthy, status = await check()
    body = json.dumps(
        {"status": "ok" if healthy else "error", "host": HOSTNAME, "version": VERSION, **status}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200 if healthy else 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"x-served-by", HOSTNAME.encode()),
                (b"x-app-version", VERSION.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})

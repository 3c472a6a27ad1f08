"""The container healthcheck's probe (files/djangostack/health.py): what it prints is what a failed
deploy shows of the container, so a 503 must say which service failed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[1] / "roles" / "django_channels" / "files"
BODY = {"status": "error", "database": "error: OperationalError: (2003, 'refused')", "channel_layer": "ok"}


class Endpoint(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 503
        body = json.dumps({**BODY, "status": "ok", "database": "ok"} if status == 200 else BODY).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def probe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "djangostack.health", url],
        cwd=LAYER,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_healthy_endpoint_passes_with_its_body(endpoint: str) -> None:
    result = probe(f"{endpoint}/ok")
    assert result.returncode == 0
    assert result.stdout.startswith("200 ") and '"database": "ok"' in result.stdout


def test_an_unhealthy_endpoint_fails_naming_the_service_that_failed(endpoint: str) -> None:
    result = probe(f"{endpoint}/_djangostack/health")
    assert result.returncode == 1
    assert "503" in result.stdout and "OperationalError: (2003, 'refused')" in result.stdout


def test_an_endpoint_that_does_not_answer_fails_saying_so() -> None:
    result = probe("http://127.0.0.1:9/_djangostack/health")
    assert result.returncode == 1 and "Connection refused" in result.stdout

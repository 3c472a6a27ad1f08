"""The wait_healthy module against real containers: it waits for several at once, and gives up early
on a container that is gone or has stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from module_runner import run_module

IMAGE = os.environ.get("DJANGOSTACK_TEST_IMAGE", "djangostack/debian:bookworm")


@pytest.fixture()
def prefix() -> Iterator[str]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.skip("needs a Docker engine (make engine)")
    name = f"waithealthy-{uuid.uuid4().hex[:8]}"
    yield name
    names = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={name}"], capture_output=True, text=True
    ).stdout.split()
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True)


def container(name: str, command: str, health: str) -> None:
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--health-cmd",
            health,
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            IMAGE,
            "sh",
            "-c",
            command,
        ],
        check=True,
        capture_output=True,
    )


def wait(names: list[str], timeout: int = 60) -> dict[str, Any]:
    return run_module("wait_healthy", {"names": names, "timeout": timeout})


def test_it_waits_for_every_container_until_healthy(prefix: str) -> None:
    container(f"{prefix}-fast", "sleep 300", "true")
    # Healthy only once the file exists, a few seconds after the start.
    container(f"{prefix}-slow", "sleep 3 && touch /tmp/ready && sleep 300", "test -f /tmp/ready")
    result = wait([f"{prefix}-fast", f"{prefix}-slow"])
    assert not result.get("failed"), result
    assert result["health"] == {f"{prefix}-fast": "healthy", f"{prefix}-slow": "healthy"}
    assert result["changed"] is False


def test_a_stopped_or_missing_container_fails_at_once(prefix: str) -> None:
    container(f"{prefix}-exits", "exit 3", "true")
    result = wait([f"{prefix}-exits", f"{prefix}-absent"], timeout=120)
    assert result.get("failed"), result
    assert f"{prefix}-exits is stopped" in result["msg"] and f"{prefix}-absent is missing" in result["msg"]
    assert result["seconds"] < 60  # gave up without waiting for the timeout


def test_an_unhealthy_container_fails_at_the_timeout_with_its_state(prefix: str) -> None:
    container(f"{prefix}-sick", "sleep 300", "false")
    result = wait([f"{prefix}-sick"], timeout=3)
    assert result.get("failed"), result
    assert f"{prefix}-sick is still" in result["msg"]
    assert result["health"][f"{prefix}-sick"] in ("starting", "unhealthy")

"""The wait_healthy module against real containers: it waits for several at once, and gives up early
on a container that is gone or has stopped."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from module_runner import run_module

IMAGE = os.environ.get("DJANGOSTACK_TEST_IMAGE", "djangostack/debian:bookworm")


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


def test_it_waits_for_every_container_until_healthy(containers: str) -> None:
    container(f"{containers}-fast", "sleep 300", "true")
    # Healthy only once the file exists, a few seconds after the start.
    container(f"{containers}-slow", "sleep 3 && touch /tmp/ready && sleep 300", "test -f /tmp/ready")
    result = wait([f"{containers}-fast", f"{containers}-slow"])
    assert not result.get("failed"), result
    assert result["health"] == {f"{containers}-fast": "healthy", f"{containers}-slow": "healthy"}
    assert result["changed"] is False


def test_a_stopped_or_missing_container_fails_at_once(containers: str) -> None:
    container(f"{containers}-exits", "exit 3", "true")
    result = wait([f"{containers}-exits", f"{containers}-absent"], timeout=120)
    assert result.get("failed"), result
    assert (
        f"{containers}-exits is stopped" in result["msg"]
        and f"{containers}-absent is missing" in result["msg"]
    )
    assert result["seconds"] < 60  # gave up without waiting for the timeout


def test_an_unhealthy_container_fails_at_the_timeout_with_its_state(containers: str) -> None:
    container(f"{containers}-sick", "sleep 300", "false")
    result = wait([f"{containers}-sick"], timeout=3)
    assert result.get("failed"), result
    assert f"{containers}-sick is still" in result["msg"]
    assert result["health"][f"{containers}-sick"] in ("starting", "unhealthy")

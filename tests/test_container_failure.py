"""A container that never becomes healthy fails the run with the reasons in the message; the one it
replaced runs again first, healthy, as it was."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from module_runner import require_docker, run_test_playbook

IMAGE = os.environ.get("DJANGOSTACK_TEST_IMAGE", "djangostack/debian:bookworm")


@pytest.fixture()
def stack_name() -> Iterator[str]:
    require_docker()
    name = f"unhealthy-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "network", "create", name], check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "rm", "-f", f"{name}-unhealthy"], check=False, capture_output=True)
    subprocess.run(["docker", "network", "rm", name], check=False, capture_output=True)


def test_unhealthy_container_fails_with_its_logs_and_health_output(stack_name: str) -> None:
    result = run_test_playbook("unhealthy_container.yml", f"stack_name={stack_name} test_image={IMAGE}")
    assert result.returncode != 0
    message = result.stdout[result.stdout.find("did not become healthy") :]
    assert f"Container {stack_name}-unhealthy ({IMAGE}) did not become healthy within 8 s" in result.stdout
    assert "Health: unhealthy" in message or "Health: starting" in message
    assert "marker-health-output" in message  # the health check's own output
    assert "marker-log-line-from-the-container" in message  # the container's last log lines


def test_the_previous_container_runs_again_when_the_new_one_is_not_healthy(stack_name: str) -> None:
    """The previous version (another image, a passing health check) is healthy first; the new one
    never is: the run fails, saying the previous one runs again, and it does, healthy."""
    previous = f"{stack_name}/previous:1"
    subprocess.run(
        ["docker", "build", "-q", "-t", previous, "-"],
        input=f"FROM {IMAGE}\nRUN touch /previous\n",
        text=True,
        check=True,
        capture_output=True,
    )
    try:
        healthy = run_test_playbook(
            "unhealthy_container.yml",
            f"stack_name={stack_name} test_image={previous}",
            "-e",
            "health_command='test -f /previous'",
        )
        assert healthy.returncode == 0, healthy.stdout[-3000:]
        result = run_test_playbook(
            "unhealthy_container.yml",
            f"stack_name={stack_name} test_image={IMAGE} previous_image={previous}",
            "-e",
            "health_command='test -f /previous'",
        )
        assert result.returncode != 0
        assert f"Container {stack_name}-unhealthy ({IMAGE}) did not become healthy" in result.stdout
        assert f"The previous container runs again, healthy: {previous}" in result.stdout
        state = json.loads(
            subprocess.run(
                ["docker", "inspect", f"{stack_name}-unhealthy"], check=True, capture_output=True, text=True
            ).stdout
        )[0]
        assert state["Config"]["Image"] == previous
        assert state["State"]["Health"]["Status"] == "healthy"
        assert state["Config"]["Labels"]["io.djangostack.test"] == "previous"
    finally:
        subprocess.run(["docker", "rm", "-f", f"{stack_name}-unhealthy"], check=False, capture_output=True)
        subprocess.run(["docker", "rmi", previous], check=False, capture_output=True)

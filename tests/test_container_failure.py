"""A container that never becomes healthy fails the run with the reasons in the message."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from module_runner import require_docker, run_test_playbook


@pytest.fixture()
def stack_name() -> str:
    require_docker()
    name = f"unhealthy-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "network", "create", name], check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "rm", "-f", f"{name}-unhealthy"], capture_output=True)
    subprocess.run(["docker", "network", "rm", name], capture_output=True)


def test_unhealthy_container_fails_with_its_logs_and_health_output(stack_name: str) -> None:
    image = os.environ.get("DJANGOSTACK_TEST_IMAGE", "djangostack/debian:bookworm")
    result = run_test_playbook("unhealthy_container.yml", f"stack_name={stack_name} test_image={image}")
    assert result.returncode != 0
    message = result.stdout[result.stdout.find("did not become healthy") :]
    assert f"Container {stack_name}-unhealthy ({image}) did not become healthy within 8 s" in result.stdout
    assert "Health: unhealthy" in message
    assert "marker-health-output" in message  # the health check's own output
    assert "marker-log-line-from-the-container" in message  # the container's last log lines

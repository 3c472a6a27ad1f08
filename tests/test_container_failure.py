"""A container that never becomes healthy fails the run with the reasons in the message."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def stack_name() -> str:
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.skip("needs a Docker engine (make engine)")
    name = f"unhealthy-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "network", "create", name], check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "rm", "-f", f"{name}-unhealthy"], capture_output=True)
    subprocess.run(["docker", "network", "rm", name], capture_output=True)


def test_unhealthy_container_fails_with_its_logs_and_health_output(stack_name: str) -> None:
    image = os.environ.get("DJANGOSTACK_TEST_IMAGE", "djangostack/debian:bookworm")
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            "ansible_python_interpreter={{ ansible_playbook_python }}",
            "-e",
            f"stack_name={stack_name} test_image={image}",
            str(ROOT / "tests" / "playbooks" / "unhealthy_container.yml"),
        ],
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    message = result.stdout[result.stdout.find("did not become healthy") :]
    assert f"Container {stack_name}-unhealthy ({image}) did not become healthy within 8 s" in result.stdout
    assert "Health: unhealthy" in message
    assert "marker-health-output" in message  # the health check's own output
    assert "marker-log-line-from-the-container" in message  # the container's last log lines

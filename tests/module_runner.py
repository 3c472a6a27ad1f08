"""Run one of the collection's modules on this machine, as a task would, and return its result; or
one of the test playbooks (tests/playbooks), with the repository's ansible.cfg."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def require_docker() -> None:
    """Skip the test on a machine without a Docker engine."""
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "info"], check=False, capture_output=True).returncode
    ):
        pytest.skip("needs a Docker engine (make engine)")


def run_module(name: str, args: dict[str, Any], *extra: str) -> dict[str, Any]:
    """The result of djangostack.channels.<name> with these arguments (ad hoc, local connection)."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"),
            "localhost",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            f"djangostack.channels.{name}",
            "-a",
            json.dumps(args),
            *extra,
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def run_test_playbook(
    name: str, variables: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook tests/playbooks/<name> on this machine (local connection), with these extra
    vars (and environment variables)."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable} {variables}",
            *extra,
            str(ROOT / "tests" / "playbooks" / name),
        ],
        check=False,
        cwd=ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )

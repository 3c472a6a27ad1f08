"""Fixtures shared by the tests that run the site playbook, a module or containers on this machine."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from module_runner import require_docker


@pytest.fixture()
def containers(request: pytest.FixtureRequest) -> Iterator[str]:
    """A unique name prefix for the test's containers, every one of which is removed afterwards."""
    require_docker()
    prefix = f"{request.node.name.split('[')[0][5:25].replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    yield prefix
    names = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={prefix}"], check=False, capture_output=True, text=True
    ).stdout.split()
    if names:
        subprocess.run(["docker", "rm", "-f", *names], check=False, capture_output=True)


@pytest.fixture()
def stack(tmp_path: Path) -> dict[str, Any]:
    require_docker()
    name = f"badinput-{uuid.uuid4().hex[:8]}"
    return {"stack_name": name, "stack_base_dir": str(tmp_path / name), "tmp": tmp_path}

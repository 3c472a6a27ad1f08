"""Fixtures shared by the tests that run the site playbook against this machine."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture()
def stack(tmp_path: Path) -> dict[str, Any]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.skip("needs a Docker engine (make engine)")
    name = f"badinput-{uuid.uuid4().hex[:8]}"
    return {"stack_name": name, "stack_base_dir": str(tmp_path / name), "tmp": tmp_path}

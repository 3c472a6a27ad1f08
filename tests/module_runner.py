"""Run one of the collection's modules on this machine, as a task would, and return its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


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
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]

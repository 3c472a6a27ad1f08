"""Run the real site playbook against this machine for a throwaway stack, and look at what it left."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOOD: dict[str, Any] = {
    "ansible_connection": "local",
    "mysql_root_password": "bad-input-root-4c1e9a",
    "stack_db_password": "bad-input-db-77d0e2b",
    "stack_redis_password": "bad-input-redis-3f9a61",
    "django_channels_secret_key": "bad-input-secret-key-0b5d3e8c9a7f-6e21c4d8b09a57f3e1c2d4b6a8",
}
DROP = object()  # marks a variable removed from the good baseline


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def run_site(
    stack: dict[str, Any], variables: dict[str, Any], *extra: str
) -> subprocess.CompletedProcess[str]:
    inventory = {
        "docker_hosts": {"children": {group: {} for group in ("mysql", "redis", "django_channels", "nginx")}},
        **{group: {"hosts": {"localhost": {}}} for group in ("mysql", "redis", "django_channels", "nginx")},
    }
    merged = {**GOOD, "stack_name": stack["stack_name"], "stack_base_dir": stack["stack_base_dir"]}
    for key, value in variables.items():
        if value is DROP:
            merged.pop(key, None)
        else:
            merged[key] = value
    (stack["tmp"] / "hosts.json").write_text(json.dumps(inventory))
    (stack["tmp"] / "vars.json").write_text(json.dumps(merged))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [
            str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "ansible-playbook"),
            "-i",
            str(stack["tmp"] / "hosts.json"),
            "-e",
            f"@{stack['tmp'] / 'vars.json'}",
            "-e",
            "ansible_python_interpreter={{ ansible_playbook_python }}",
            *extra,
            str(ROOT / "site.yml"),
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_nothing_changed(stack: dict[str, Any]) -> None:
    assert not Path(stack["stack_base_dir"]).exists(), "a directory of the stack was created"
    assert stack["stack_name"] not in docker("network", "ls", "--format", "{{.Name}}").split()
    assert not docker("ps", "-aq", "--filter", f"label=io.djangostack.stack={stack['stack_name']}").split()
    assert not [v for v in docker("volume", "ls", "-q").split() if v.startswith(stack["stack_name"])]

"""A role works on its own: the redis role alone, on a host where no other role ran, validates its
settings, creates the stack network and runs a healthy server; run again, it changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

from module_runner import run_test_playbook

REDIS_IMAGE = "djangostack/redis:7.0"


def test_the_redis_role_runs_alone_and_a_rerun_changes_nothing(stack: dict[str, Any]) -> None:
    variables = json.dumps(
        {
            "role": "redis",
            "stack_name": stack["stack_name"],
            "stack_base_dir": stack["stack_base_dir"],
            "redis_image": REDIS_IMAGE,
            "stack_redis_password": "role-alone-redis-5d2a9c",
        }
    )
    try:
        first = run_test_playbook("one_role.yml", "", "-e", variables)
        assert first.returncode == 0, first.stdout[-3000:]
        state = json.loads(
            subprocess.run(
                ["docker", "inspect", f"{stack['stack_name']}-redis"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )[0]
        assert state["State"]["Health"]["Status"] == "healthy"
        assert stack["stack_name"] in state["NetworkSettings"]["Networks"]
        again = run_test_playbook("one_role.yml", "", "-e", variables)
        assert again.returncode == 0, again.stdout[-3000:]
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again.stdout), again.stdout[-2000:]
    finally:
        subprocess.run(
            ["docker", "rm", "-f", f"{stack['stack_name']}-redis"], check=False, capture_output=True
        )
        subprocess.run(
            ["docker", "volume", "rm", f"{stack['stack_name']}-redis-data"], check=False, capture_output=True
        )
        subprocess.run(["docker", "network", "rm", stack["stack_name"]], check=False, capture_output=True)

"""One site playbook run at a time: a run finding another run's lock stops and names it."""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from module_runner import run_module
from site_runner import run_site


def write_lock(stack: dict[str, Any], controller: str, pid: int, age: float = 0) -> Path:
    lock = Path(stack["stack_base_dir"]) / "deploy.lock"
    lock.parent.mkdir(parents=True)
    since = time.time() - age
    lock.write_text(
        f'id: 12345\nowner: "alice@{controller} (ansible-playbook pid {pid})"\n'
        f'controller: "{controller}"\npid: {pid}\nsince: {since}\nsince_text: "then"\n'
    )
    return lock


def test_a_run_stops_at_another_controllers_lock_and_names_it(stack: dict[str, Any]) -> None:
    lock = write_lock(stack, "other-controller", 4242)
    result = run_site(stack, {}, "--tags", "lock-only")
    assert result.returncode != 0
    assert (
        "Another deploy holds the lock on localhost: alice@other-controller (ansible-playbook pid 4242)"
        in result.stdout
    )
    assert "Prepare the Docker hosts" not in result.stdout
    assert "id: 12345" in lock.read_text()  # the holder's lock is left alone


def test_a_lock_left_by_a_dead_run_of_this_controller_is_taken_over(stack: dict[str, Any]) -> None:
    dead_pid = 2**22 + os.getpid() % 1000  # above the default pid_max: no such process
    lock = write_lock(stack, socket.gethostname(), dead_pid)
    result = run_site(stack, {}, "--tags", "lock-only")
    assert result.returncode == 0, result.stdout[-3000:]
    assert not lock.exists()  # taken, then released at the end of the run


def test_an_expired_lock_is_taken_over(stack: dict[str, Any]) -> None:
    lock = write_lock(stack, "other-controller", 4242, age=7200)
    result = run_site(stack, {}, "--tags", "lock-only")
    assert result.returncode == 0, result.stdout[-3000:]
    assert not lock.exists()


def test_a_run_releases_only_its_own_lock(tmp_path: Path) -> None:
    lock = tmp_path / "stack" / "deploy.lock"
    taken = run_module("deploy_lock", {"path": str(lock), "id": "1", "content": "id: 1\n"})
    assert taken["acquired"] is True and taken["held"] == {}
    other = run_module("deploy_lock", {"path": str(lock), "id": "2", "content": "id: 2\n"})
    assert other["acquired"] is False and other["held"] == {"id": "1"}
    assert run_module("deploy_lock", {"path": str(lock), "id": "2", "state": "absent"})["released"] is False
    assert lock.read_text() == "id: 1\n"
    assert run_module("deploy_lock", {"path": str(lock), "id": "1", "state": "absent"})["released"] is True
    assert not lock.exists()


def test_the_lock_names_the_runs_own_process(stack: dict[str, Any]) -> None:
    """The pid in the lock is the run's ansible-playbook process, which is gone once the run ends:
    a lock the run left behind (it failed or was killed) is taken over by the next run."""
    result = run_site(stack, {}, "--tags", "lock-only", "-v")
    assert result.returncode == 0, result.stdout[-3000:]
    pid = int(re.search(r"stack_deploy_lock_pid: '?(\d+)", result.stdout).group(1))
    ancestors, process = set(), os.getpid()
    while process > 1:
        ancestors.add(process)
        process = int(Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert pid not in ancestors  # such as this test's process, the parent of ansible-playbook
    assert not Path(f"/proc/{pid}").exists()

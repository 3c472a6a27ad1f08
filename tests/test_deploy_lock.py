"""One site playbook run at a time: a run finding another run's lock stops and names it; the lock is
taken atomically, so that of two runs started together one deploys and the other stops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from module_runner import ROOT, run_module
from site_runner import run_site


def write_lock(stack: dict[str, Any], controller: str, pid: int, age: float = 0) -> Path:
    lock = Path(stack["stack_base_dir"]) / "deploy.lock"
    lock.parent.mkdir(parents=True)
    since = time.time() - age
    lock.write_text(
        f'id: {controller}-{pid}\nowner: "alice@{controller} (ansible-playbook pid {pid})"\n'
        f'controller: "{controller}"\npid: {pid}\nsince: {since}\nsince_text: "then"\n'
    )
    return lock


def held_lock_run(stack: dict[str, Any], hold: int) -> subprocess.Popen[str]:
    """Start tests/playbooks/hold_lock.yml: it takes the stack's lock, holds it `hold` seconds, releases it."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            json.dumps(
                {
                    "ansible_python_interpreter": sys.executable,
                    "stack_name": stack["stack_name"],
                    "stack_base_dir": stack["stack_base_dir"],
                    "hold_seconds": hold,
                }
            ),
            str(ROOT / "tests" / "playbooks" / "hold_lock.yml"),
        ],
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_run_stops_at_another_controllers_lock_and_names_it(stack: dict[str, Any]) -> None:
    lock = write_lock(stack, "other-controller", 4242)
    result = run_site(stack, {}, "--tags", "lock-only")
    assert result.returncode != 0
    assert (
        "Another deploy holds the lock on localhost: alice@other-controller (ansible-playbook pid 4242)"
        in result.stdout
    )
    assert "Prepare the Docker hosts" not in result.stdout
    assert "id: other-controller-4242" in lock.read_text()  # the holder's lock is left alone


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


def test_of_modules_taking_the_lock_together_exactly_one_gets_it(tmp_path: Path) -> None:
    lock = tmp_path / "stack" / "deploy.lock"

    def take(run: int) -> bool:
        return run_module("deploy_lock", {"path": str(lock), "id": str(run), "content": f"id: {run}\n"})[
            "acquired"
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        acquired = list(pool.map(take, range(6)))
    assert acquired.count(True) == 1, acquired
    assert lock.read_text() == f"id: {acquired.index(True)}\n"


def test_of_take_overs_of_a_dead_runs_lock_exactly_one_succeeds(tmp_path: Path) -> None:
    lock = tmp_path / "stack" / "deploy.lock"
    lock.parent.mkdir()
    lock.write_text("id: dead\n")

    def take_over(run: int) -> bool:
        args = {"path": str(lock), "id": str(run), "content": f"id: {run}\n", "take_over": "dead"}
        return run_module("deploy_lock", args)["acquired"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        acquired = list(pool.map(take_over, range(6)))
    assert acquired.count(True) == 1, acquired
    assert lock.read_text() == f"id: {acquired.index(True)}\n"


def test_of_two_runs_started_together_one_holds_the_lock_and_the_other_stops(stack: dict[str, Any]) -> None:
    runs = [held_lock_run(stack, hold=6) for _i in range(2)]
    lock = Path(stack["stack_base_dir"]) / "deploy.lock"
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert time.monotonic() < deadline, "no run took the lock"
        time.sleep(0.1)
    holder = lock.read_text()
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes[0] == 0 and codes[1] != 0, outputs
    winner, loser = sorted(runs, key=lambda run: run.returncode)
    # The lock names the run's own ansible-playbook process, which the other run finds alive.
    assert f"(ansible-playbook pid {winner.pid})" in holder, holder
    loser_output = outputs[runs.index(loser)]
    assert "Another deploy holds the lock on localhost: " in loser_output
    assert f"(ansible-playbook pid {winner.pid})" in loser_output
    assert not lock.exists()  # released by the run that held it

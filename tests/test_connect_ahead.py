"""The collection's mitogen_linear strategy (ansible.cfg) starts Mitogen on a host the first time a
task is queued for it, while tasks on the controller run; the run's output does not show it."""

from __future__ import annotations

import re
import subprocess

import pytest
from module_runner import run_test_playbook

pytest.importorskip("ansible_mitogen")


def run(*variables: str) -> subprocess.CompletedProcess[str]:
    result = run_test_playbook("connect_ahead.yml", " ".join(variables))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def test_the_host_is_connected_while_the_controller_works() -> None:
    result = run()
    waited, started = map(
        float, re.search(r"wait ended ([0-9.]+); interpreter started ([0-9.]+)", result.stdout).groups()
    )
    # Without the connection ahead, the interpreter starts with the first task on the host, after
    # the 3 s wait on the controller.
    assert started < waited, (
        f"Mitogen started at {started} s, after the wait on the controller ended ({waited} s)"
    )


def test_the_connection_ahead_does_not_show() -> None:
    result = run()
    assert "ok=5 " in result.stdout, result.stdout[-1500:]
    assert "pong" not in result.stdout and "Connect ahead" not in result.stdout


def test_a_run_that_ends_while_connecting_ends_cleanly() -> None:
    # The play ends before the connection is made: Mitogen's shutdown must not find it pending
    # (it would wait 5 s and print an error).
    result = run("test_remote=false")
    assert "pending work" not in result.stdout + result.stderr, result.stderr[-1500:]

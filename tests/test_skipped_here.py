"""The collection's mitogen_linear strategy (ansible.cfg) reports a task whose condition is false as
skipped, and runs a set_fact, assert, debug, fail, include_tasks or include_role task, without
starting a worker for it; what the run shows and registers is what a worker would have reported."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from module_runner import run_test_playbook

pytest.importorskip("ansible_mitogen")

JSON_OUTPUT = {
    "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.json",
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
}


def run(
    pid_file: Path, *variables: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_test_playbook("skipped_here.yml", " ".join((f"test_pid_file={pid_file}", *variables)), env=env)


def task_results(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Each task's result in the JSON callback's output, by task name, without durations; but the
    tasks that read the play's process, which differs from run to run."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return {
        f"{task['task']['name']} ({host})": {key: value for key, value in data.items() if key != "duration"}
        for play in json.loads(result.stdout)["plays"]
        for task in play["tasks"]
        for host, data in task["hosts"].items()
        if "play's process" not in task["task"]["name"]
    }


def test_a_false_condition_and_a_set_fact_are_evaluated_in_the_play_process(tmp_path: Path) -> None:
    result = run(tmp_path / "pids")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    play_pid = re.search(r"play pid (\d+)", result.stdout).group(1)
    # In a worker, the shell's parent would be the worker, a fork of the play's process.
    assert (tmp_path / "pids").read_text().split() == [play_pid, play_pid]
    # localhost's one change is add_host's.
    for host, ok, changed, skipped in (("localhost", 15, 1, 4), ("test_second", 2, 0, 0)):
        recap = f"{host} +: ok={ok} +changed={changed} +unreachable=0 +failed=0 +skipped={skipped} "
        assert re.search(recap, result.stdout), result.stdout[-800:]
    assert "ran on localhost" in result.stdout  # the connection's variables are there, as in a worker
    assert "not shown" not in result.stdout
    assert "the facts are right" in result.stdout


def test_the_results_are_those_of_the_workers_of_plain_linear(tmp_path: Path) -> None:
    here = task_results(run(tmp_path / "here", env=JSON_OUTPUT))
    linear = task_results(run(tmp_path / "linear", env={**JSON_OUTPUT, "ANSIBLE_STRATEGY": "linear"}))
    assert [name for name, task in here.items() if task.get("skipped")] == [
        name for name in here if name.startswith("Skip") or name.startswith("Fail")
    ], here
    assert here == linear
    assert "not shown" not in json.dumps(here)


def test_a_condition_that_cannot_be_evaluated_fails_the_task(tmp_path: Path) -> None:
    result = run(tmp_path / "pids", "test_broken=true")
    assert result.returncode == 2, result.stdout[-3000:]
    assert "test_no_such_variable" in result.stdout, result.stdout[-1500:]
    assert "failed=1" in result.stdout


def test_a_failed_assert_fails_the_task_as_in_a_worker(tmp_path: Path) -> None:
    here = run(tmp_path / "here", "test_assert_fails=true", env=JSON_OUTPUT)
    linear = run(
        tmp_path / "linear", "test_assert_fails=true", env={**JSON_OUTPUT, "ANSIBLE_STRATEGY": "linear"}
    )
    assert here.returncode == linear.returncode == 2, here.stdout[-3000:]
    tasks = json.loads(here.stdout)["plays"][0]["tasks"]
    assert tasks[-1]["task"]["name"] == "Check the facts, and what the first task registered."
    assert tasks[-1]["hosts"]["localhost"]["failed"] is True
    assert tasks[-1]["hosts"]["localhost"]["msg"] == "the facts are wrong, or test_assert_fails is true"
    assert json.loads(here.stdout)["stats"] == json.loads(linear.stdout)["stats"]

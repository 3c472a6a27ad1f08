"""What the scenarios' tests share: run the scenario's converge playbook again, as Molecule does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO.parents[1]))


def converge(*extra: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run converge.yml against the scenario's inventory with extra ansible-playbook arguments."""
    return playbook(SCENARIO / "converge.yml", *extra, timeout=timeout)


def playbook(path: Path, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run a playbook (e.g. the collection's playbooks/backup.yml) against the scenario's inventory."""
    inventory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "collections"),
        # Plain text to match against: Molecule itself runs with ANSIBLE_FORCE_COLOR set, which
        # would otherwise win over NOCOLOR and wrap every line of a message in escape codes.
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
    }
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    return subprocess.run(
        [str(ansible_playbook), "-i", str(inventory), *extra, str(path)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

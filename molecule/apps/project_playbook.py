"""Run one of the collection's playbooks against one project's stack, with the project's inventory
over this machine's settings: converge.yml, destroy.yml and the tests all run it this way.

python project_playbook.py PROJECT PLAYBOOK [ansible-playbook arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INVENTORY = Path(__file__).resolve().parent / "inventory"


def run(
    project: str, name: str, *extra: str, capture: bool = True, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(INVENTORY / "hosts.yml"),
            "-e",
            f"@{INVENTORY / 'machine.yml'}",
            "-e",
            f"@{INVENTORY / f'{project}.yml'}",
            *extra,
            f"djangostack.channels.{name}",
        ],
        check=False,
        capture_output=capture,
        text=True,
        timeout=timeout,
        # Plain text, to be read by the tests and in Molecule's output.
        env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"},
    )


if __name__ == "__main__":
    # converge.yml's async limit, for a whole site run with an image build.
    sys.exit(run(*sys.argv[1:], capture=False, timeout=2400).returncode)

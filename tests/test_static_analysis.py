"""hadolint passes on every Dockerfile the collection ships: the stand-in images and the app's
Dockerfile template, rendered with each of its optional parts. (gixy runs on the rendered nginx
configuration in the Molecule scenarios, where the real configuration exists.)"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ROLE = ROOT / "roles" / "django_channels"
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HADOLINT, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(dockerfile)],
        check=False,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "dockerfile",
    sorted([*ROOT.glob("images/*/Dockerfile"), *ROOT.glob("molecule/*/standin/Dockerfile")]),
    ids=lambda p: p.parent.name if p.parent.name != "standin" else p.parents[1].name + "-standin",
)
def test_image_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"django_channels_build_ca_bundle": "/etc/ssl/certs/ca-certificates.crt"},
        {"django_channels_pip_index_url": "https://pypi.example.com/simple"},
        {
            "django_channels_dockerfile": "Dockerfile",
            "django_channels_build_ca_bundle": "/etc/ssl/certs/ca.pem",
        },
        {"django_channels_server": "daphne", "django_channels_dependency_groups": ["prod"]},
    ],
    ids=["defaults", "ca-bundle", "pip-index", "own-dockerfile", "daphne-groups"],
)
def test_app_dockerfile_template_passes_hadolint(extra: dict[str, str], tmp_path: Path) -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    constants = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    variables = {**defaults, **constants, "django_channels_source": str(ROLE / "files" / "app"), **extra}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined
    )
    env.filters |= {"basename": os.path.basename, "quote": shlex.quote, "to_json": json.dumps}
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(env.get_template("Dockerfile.j2").render(variables))
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr + dockerfile.read_text()

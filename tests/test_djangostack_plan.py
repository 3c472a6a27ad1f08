"""The build's detection of a project's layout and dependencies (files/djangostack/plan.py), on the
fixture projects and on the shapes real projects come in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "roles" / "django_channels" / "files"
PROJECTS = ROOT / "molecule" / "apps" / "projects"


def plan(source: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "djangostack.plan", str(source), str(out), *args],
        cwd=LAYER,
        capture_output=True,
        text=True,
        check=False,
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_conf.settings.production')\n"


@pytest.mark.parametrize(
    ("project", "layout", "kind"),
    [
        ("tutorial", ("mysite", "mysite.settings", "mysite.asgi:application"), "requirements"),
        ("notes", ("", "config.settings", "config.asgi:application"), "poetry"),
        ("board", ("web", "board.settings", "board.asgi:application"), "uv"),
        ("jobs", ("src", "jobs.settings", "jobs.asgi:application"), "requirements"),
        (None, ("", "chatsite.settings", "chatsite.asgi:application"), "requirements"),
    ],
)
def test_fixture_projects_are_found(
    project: str | None, layout: tuple[str, str, str], kind: str, tmp_path: Path
) -> None:
    source = PROJECTS / project if project else LAYER / "app"
    result = plan(source, tmp_path, "--image-root", "/app")
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "plan.json").read_text())
    assert found == {
        "project_dir": str(Path("/app") / layout[0]) if layout[0] else "/app",
        "settings_module": layout[1],
        "asgi_application": layout[2],
    }
    assert json.loads((tmp_path / "deps" / "deps.json").read_text())["kind"] == kind


def test_settings_package_production_requirements_and_no_dev_files(tmp_path: Path) -> None:
    source = write(
        tmp_path / "src",
        {
            "manage.py": MANAGE,
            "site_conf/__init__.py": "",
            "site_conf/settings/__init__.py": "",
            "site_conf/settings/production.py": "from .base import *\n",
            "site_conf/asgi.py": "application = None\n",
            "requirements/base.txt": "Django==5.2.8\n",
            "requirements/production.txt": "-r base.txt\ngunicorn==23.0.0\n",
            "requirements/dev.txt": "-r base.txt\npytest\n",
        },
    )
    result = plan(source, tmp_path / "out", "--groups", "")
    assert result.returncode == 0, result.stderr
    layout = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert layout["settings_module"] == "site_conf.settings.production"
    assert layout["asgi_application"] == "site_conf.asgi:application"
    deps = json.loads((tmp_path / "out" / "deps" / "deps.json").read_text())
    assert deps == {"kind": "requirements", "main": "production.txt", "groups": []}
    # The file it includes goes with it.
    assert (tmp_path / "out" / "deps" / "base.txt").is_file()


def test_pep621_dependencies_and_extras_become_a_requirements_file(tmp_path: Path) -> None:
    source = write(
        tmp_path / "src",
        {
            "manage.py": MANAGE.replace("site_conf.settings.production", "proj.settings"),
            "proj/settings.py": "ASGI_APPLICATION = 'proj.routing.app'\n",
            "pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndependencies = ["django>=5.2"]\n'
            '[project.optional-dependencies]\nprod = ["sentry-sdk"]\n',
        },
    )
    result = plan(source, tmp_path / "out", "--groups", "prod")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "plan.json").read_text())["asgi_application"] == "proj.routing:app"
    assert (tmp_path / "out" / "deps" / "requirements.txt").read_text() == "django>=5.2\nsentry-sdk\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"README.md": "x"}, [], "no manage.py in django_channels_source: set django_channels_project_dir"),
        ({"manage.py": MANAGE}, [], "manage.py does not name an existing settings module"),
        (
            {"a/manage.py": "x"},
            ["--project-dir", "b"],
            "django_channels_project_dir 'b': there is no manage.py in it",
        ),
        (
            {"manage.py": "x"},
            ["--settings-module", "nowhere.settings"],
            "django_channels_settings_module 'nowhere.settings'",
        ),
        (
            {"manage.py": "x", "s.py": ""},
            ["--settings-module", "s", "--asgi-application", "nowhere:app"],
            "django_channels_asgi_application 'nowhere:app': there is no such module",
        ),
        (
            {"manage.py": "x", "s.py": "", "requirements-dev.txt": "pytest\n"},
            ["--settings-module", "s", "--asgi-application", "s:app"],
            "no requirements*.txt, poetry.lock, uv.lock or pyproject.toml",
        ),
    ],
)
def test_a_source_the_role_cannot_deploy_names_the_setting(
    files: dict[str, str], args: list[str], message: str, tmp_path: Path
) -> None:
    result = plan(write(tmp_path / "src", files), tmp_path / "out", "--check", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()  # --check writes nothing

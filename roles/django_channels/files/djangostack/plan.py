"""Find a Django project's layout and dependencies in its source (run when the image is built).

    python -m djangostack.plan SOURCE OUT [--project-dir D] [--settings-module M]
        [--asgi-application A] [--requirements-file F] [--groups G,...] [--no-dependencies]

Writes OUT/plan.json (where manage.py is, the settings module, the ASGI application) and, unless
--no-dependencies, OUT/deps/: only the files the dependencies are installed from, so that the
image's dependency layer is rebuilt when they change and not when the code does.
"""

import argparse
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

SKIPPED = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", "site-packages"}
# requirements files that are not the runtime's, whatever directory they are in.
NOT_RUNTIME = re.compile(r"(dev|test|tests|testing|lint|docs|local|ci)\b", re.IGNORECASE)
PREFERRED_REQUIREMENTS = [
    "requirements.txt",
    "requirements/production.txt",
    "requirements/prod.txt",
    "requirements/base.txt",
    "requirements/common.txt",
    "requirements-prod.txt",
]


class PlanError(Exception):
    """The source does not say what is needed: the message tells which setting to give."""


def walk(root: Path, name: str) -> list[Path]:
    """Files called name under root, shallowest first, outside virtualenvs and VCS directories."""
    found = []
    for path in root.rglob(name):
        if not SKIPPED.intersection(path.relative_to(root).parts[:-1]):
            found.append(path)
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


def find_project_dir(source: Path, given: str) -> Path:
    if given:
        project = source / given
        if not (project / "manage.py").is_file():
            raise PlanError(f"django_channels_project_dir {given!r}: there is no manage.py in it")
        return project
    found = walk(source, "manage.py")
    if not found:
        raise PlanError("no manage.py in django_channels_source: set django_channels_project_dir")
    return found[0].parent


def module_file(project: Path, module: str) -> Path | None:
    base = project.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def find_settings_module(project: Path, given: str) -> str:
    if given:
        if not module_file(project, given):
            raise PlanError(
                f"django_channels_settings_module {given!r}: there is no such module in {project.name or project}"
            )
        return given
    match = re.search(
        r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""", (project / "manage.py").read_text()
    )
    if match and module_file(project, match.group(1)):
        return match.group(1)
    raise PlanError(
        "manage.py does not name an existing settings module: set django_channels_settings_module"
    )


def find_asgi_application(project: Path, settings_module: str, given: str) -> str:
    """module:attribute of the project's ASGI application."""
    if given:
        if not module_file(project, given.partition(":")[0]):
            raise PlanError(
                f"django_channels_asgi_application {given!r}: there is no such module in {project.name or project}"
            )
        return given
    settings_file = module_file(project, settings_module)
    text = settings_file.read_text() if settings_file else ""
    match = re.search(r"""^ASGI_APPLICATION\s*=\s*['"]([\w.]+)\.(\w+)['"]""", text, re.MULTILINE)
    if match:
        return f"{match.group(1)}:{match.group(2)}"
    package = settings_module.split(".")
    # mysite.settings -> mysite.asgi; config.settings.production -> config.asgi
    for depth in range(len(package) - 1, 0, -1):
        module = ".".join(package[:depth] + ["asgi"])
        if module_file(project, module):
            return f"{module}:application"
    raise PlanError(
        "no asgi.py beside the settings and no ASGI_APPLICATION: set django_channels_asgi_application"
    )


def dependency_files(source: Path, project: Path, requirements_file: str) -> tuple[str, Path, list[Path]]:
    """(kind, the directory its files are relative to, the files): requirements, poetry, uv or pep621."""
    if requirements_file:
        chosen = source / requirements_file
        return "requirements", chosen.parent, [chosen]
    # A lock file or pyproject.toml is looked for in the project directory, then its parents.
    for directory in [project, *project.parents]:
        if directory == source.parent:
            break
        pyproject = directory / "pyproject.toml"
        if (directory / "uv.lock").is_file():
            return "uv", directory, [pyproject, directory / "uv.lock"]
        if (directory / "poetry.lock").is_file():
            return "poetry", directory, [pyproject, directory / "poetry.lock"]
        if pyproject.is_file() and tomllib.loads(pyproject.read_text()).get("project", {}).get(
            "dependencies"
        ):
            return "pep621", directory, [pyproject]
    for directory in [project, *project.parents]:
        if directory == source.parent:
            break
        for name in PREFERRED_REQUIREMENTS:
            if (directory / name).is_file():
                return "requirements", (directory / name).parent, [directory / name]
    found = [p for p in walk(source, "requirements*.txt") if not NOT_RUNTIME.search(p.name)]
    if found:
        return "requirements", found[0].parent, [found[0]]
    raise PlanError(
        "no requirements*.txt, poetry.lock, uv.lock or pyproject.toml with dependencies in django_channels_source:"
        " set django_channels_requirements_file"
    )


def write_dependencies(kind: str, base: Path, files: list[Path], groups: list[str], out: Path) -> None:
    deps = out / "deps"
    deps.mkdir(parents=True)
    main = files[0]
    if kind == "requirements":
        # A requirements file may include its siblings (-r base.txt, -c constraints.txt).
        for sibling in main.parent.glob("*.txt"):
            shutil.copy2(sibling, deps / sibling.name)
    elif kind == "pep621":
        project = tomllib.loads(main.read_text())["project"]
        wanted = list(project["dependencies"])
        for group in groups:
            wanted += project.get("optional-dependencies", {}).get(group, [])
        (deps / "requirements.txt").write_text("\n".join(wanted) + "\n")
        kind, main = "requirements", deps / "requirements.txt"
    else:
        for path in files:
            shutil.copy2(path, deps / path.name)
        python_version = base / ".python-version"
        if python_version.is_file():
            shutil.copy2(python_version, deps / python_version.name)
    (deps / "deps.json").write_text(
        json.dumps({"kind": kind, "main": main.name, "groups": groups}, indent=2) + "\n"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--image-root", default="", help="where the source is in the image (default: SOURCE)")
    parser.add_argument("--project-dir", default="")
    parser.add_argument("--settings-module", default="")
    parser.add_argument("--asgi-application", default="")
    parser.add_argument("--requirements-file", default="")
    parser.add_argument("--groups", default="")
    parser.add_argument("--no-dependencies", action="store_true")
    parser.add_argument("--check", action="store_true", help="find everything, write nothing")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    try:
        project = find_project_dir(source, args.project_dir)
        settings_module = find_settings_module(project, args.settings_module)
        asgi_application = find_asgi_application(project, settings_module, args.asgi_application)
        summary = ""
        if not args.no_dependencies:
            kind, base, files = dependency_files(source, project, args.requirements_file)
            summary = f", dependencies from {', '.join(str(f.relative_to(source)) for f in files)} ({kind})"
            if not args.check:
                args.out.mkdir(parents=True, exist_ok=True)
                write_dependencies(kind, base, files, [g for g in args.groups.split(",") if g], args.out)
    except PlanError as error:
        print(f"djangostack: {error}", file=sys.stderr)
        return 2
    image_root = Path(args.image_root or source)
    layout = {
        "project_dir": str(image_root / project.relative_to(source)),
        "settings_module": settings_module,
        "asgi_application": asgi_application,
    }
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "plan.json").write_text(json.dumps(layout, indent=2) + "\n")
    print(
        f"djangostack: manage.py in {layout['project_dir']}, settings {settings_module}, ASGI {asgi_application}{summary}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

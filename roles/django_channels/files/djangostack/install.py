"""Install a project's dependencies as it declares them, then what the deployment needs and it lacks.

    python -m djangostack.install DEPS_DIR EXTRAS_JSON   (into the running interpreter's environment; also
                                                         run as a plain script, before the package is in the image)
    python -m djangostack.install --extras-only EXTRAS_JSON

DEPS_DIR is djangostack.plan's OUT/deps. Lock files are installed as locked (poetry install,
uv sync --locked), never re-resolved. EXTRAS_JSON is a list of {"requirement": "PyMySQL==1.1.2",
"unless": ["mysqlclient", "PyMySQL"]}: a requirement is installed when none of the distributions it
names is, with the versions already installed held as constraints, so that a locked package is
never moved by them.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The tools that read lock files, pinned; installed for the build only.
POETRY = "poetry==2.5.1"
UV = "uv==0.13.9"


def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print("djangostack:", " ".join(argv), flush=True)
    subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, check=True)


def pip(*args: str) -> None:
    run(sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", *args)


def tool(requirement: str) -> Path:
    """A build tool in a virtualenv of its own, outside the app's environment."""
    home = Path(tempfile.mkdtemp(prefix="djangostack-tool-"))
    run(sys.executable, "-m", "venv", str(home))
    run(str(home / "bin/pip"), "install", "--no-cache-dir", "--disable-pip-version-check", requirement)
    return home / "bin"


def install_dependencies(deps: Path) -> None:
    spec = json.loads((deps / "deps.json").read_text())
    kind, main, groups = spec["kind"], spec["main"], spec["groups"]
    environment = {"VIRTUAL_ENV": sys.prefix}
    if kind == "requirements":
        pip("-r", str(deps / main))
    elif kind == "poetry":
        only = ",".join(["main", *groups])
        run(
            str(tool(POETRY) / "poetry"),
            "install",
            "--no-root",
            "--no-interaction",
            f"--only={only}",
            cwd=deps,
            env={**environment, "POETRY_VIRTUALENVS_CREATE": "false", "POETRY_CACHE_DIR": tempfile.mkdtemp()},
        )
    elif kind == "uv":
        group_args = [f"--group={group}" for group in groups]
        run(
            str(tool(UV) / "uv"),
            "sync",
            "--locked",
            "--inexact",
            "--no-install-project",
            "--no-install-workspace",
            "--no-default-groups",
            "--no-cache",
            *group_args,
            cwd=deps,
            env={
                **environment,
                "UV_PROJECT_ENVIRONMENT": sys.prefix,
                "UV_PYTHON": sys.executable,
                "UV_PYTHON_DOWNLOADS": "never",
            },
        )
    else:
        raise SystemExit(f"djangostack: unknown kind of dependencies {kind!r}")


def installed() -> dict[str, str]:
    """Installed distributions, by normalized name."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {normalize(item["name"]): item["version"] for item in json.loads(listing)}


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def install_extras(extras: list[dict]) -> None:
    present = installed()
    missing = [e["requirement"] for e in extras if not any(normalize(n) in present for n in e["unless"])]
    if not missing:
        print("djangostack: the project already has every package the deployment needs", flush=True)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.write(
            "".join(
                f"{name}=={version}\n"
                for name, version in present.items()
                if name not in {"pip", "setuptools", "wheel"}
            )
        )
    try:
        pip("--constraint", constraints.name, *missing)
    except subprocess.CalledProcessError:
        raise SystemExit(
            f"djangostack: the packages the deployment adds ({', '.join(missing)}) conflict with the versions the"
            " project pins (above); add compatible versions of them to the project's dependencies"
        ) from None


def main(argv: list[str]) -> int:
    if argv[0] == "--extras-only":
        install_extras(json.loads(argv[1]))
        return 0
    install_dependencies(Path(argv[0]))
    install_extras(json.loads(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

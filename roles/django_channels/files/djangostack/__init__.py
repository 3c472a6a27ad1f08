"""The layer the django_channels role adds to every app image: how the project is found and
installed, its settings overlay, its health endpoint and its entry point. Standard library only
at build time; Django and the channel layer at run time."""

import json
import os
import sys
from functools import cache
from pathlib import Path
from urllib.parse import quote

PLAN_FILE = Path(os.environ.get("DJANGOSTACK_PLAN", "/opt/djangostack/plan.json"))


def plan() -> dict:
    """The project's layout, found when the image was built (djangostack.plan)."""
    return json.loads(PLAN_FILE.read_text())


def secrets() -> dict[str, str]:
    """The secrets the role writes (DJANGOSTACK_SECRETS_FILE); {} where there is none (collectstatic)."""
    return dict(_read_secrets(os.environ.get("DJANGOSTACK_SECRETS_FILE", "")))


@cache
def _read_secrets(path: str) -> dict[str, str]:
    # Read once per process: the settings, the URLs and the entry point all ask, and a container
    # is recreated when its secrets change.
    return json.loads(Path(path).read_text()) if path and Path(path).is_file() else {}


def redis_url(environ: os._Environ | dict, db: str) -> str:
    password = secrets().get("REDIS_PASSWORD", "")
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{environ.get('REDIS_HOST', 'localhost')}:{environ.get('REDIS_PORT', '6379')}/{db}"


def prepare(environ: os._Environ | dict) -> dict:
    """Put the project on the path, name the settings overlay and export the 12-factor variables
    (DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY), the way every process of the app needs them."""
    layout = plan()
    project_dir = layout["project_dir"]
    paths = [project_dir, *environ.get("PYTHONPATH", "").split(os.pathsep)]
    environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if p))
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)
    values = secrets()
    if "DJANGO_DB_HOST" in environ:
        user = quote(environ.get("DJANGO_DB_USER", ""), safe="")
        password = quote(values.get("DJANGO_DB_PASSWORD", ""), safe="")
        environ.setdefault(
            "DATABASE_URL",
            f"mysql://{user}:{password}@{environ['DJANGO_DB_HOST']}:{environ.get('DJANGO_DB_PORT', '3306')}/"
            f"{environ.get('DJANGO_DB_NAME', '')}",
        )
    if "REDIS_HOST" in environ:
        environ.setdefault("REDIS_URL", redis_url(environ, environ.get("REDIS_DB", "0")))
    if "DJANGO_SECRET_KEY" in values:
        environ.setdefault("DJANGO_SECRET_KEY", values["DJANGO_SECRET_KEY"])
    environ.setdefault("DJANGOSTACK_USER_SETTINGS", layout["settings_module"])
    environ.setdefault("DJANGOSTACK_ASGI_APPLICATION", layout["asgi_application"])
    if environ.get("DJANGOSTACK_OVERLAY", "true") == "true":
        environ["DJANGO_SETTINGS_MODULE"] = "djangostack.settings"
    else:
        environ["DJANGO_SETTINGS_MODULE"] = environ["DJANGOSTACK_USER_SETTINGS"]
    return layout

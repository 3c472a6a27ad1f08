"""Run the sample app's tests against SQLite and the in-memory channel layer."""

import os
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[2] / "roles" / "django_channels" / "files" / "app"
sys.dont_write_bytecode = True  # keep the app source (the image build context) free of caches
sys.path.insert(0, str(APP_DIR))
sys.path.insert(0, str(APP_DIR.parent))  # the role's layer, djangostack

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_SECRET_KEY": "test-only-secret-key-not-used-anywhere-else",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
        "DJANGO_DB_ENGINE": "sqlite",
        "DJANGO_DB_NAME": ":memory:",
        "DJANGO_STATIC_MANIFEST": "false",
    }
)
os.environ.pop("REDIS_HOST", None)

import django  # noqa: E402

django.setup()

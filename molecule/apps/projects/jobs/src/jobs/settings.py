"""Settings of the jobs service, from the environment (12-factor)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-jobs-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "false") == "true"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "channels", "tasks"]
ROOT_URLCONF = "jobs.urls"
TEMPLATES = []
ASGI_APPLICATION = "jobs.asgi.application"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "jobs.sqlite3"}}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://localhost:6379/0")], "capacity": 500},
    }
}

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT", BASE_DIR / "static")
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

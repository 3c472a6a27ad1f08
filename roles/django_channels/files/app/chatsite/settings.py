"""Settings read from the environment (the role templates it into an env file)."""

import importlib.util
import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str:
    """A secret: from the JSON file DJANGOSTACK_SECRETS_FILE names (how the role passes secrets, so
    that they are not in the container's environment), else from the environment."""
    path = os.environ.get("DJANGOSTACK_SECRETS_FILE")
    secrets = json.loads(Path(path).read_text()) if path else {}
    value = secrets.get(name, os.environ.get(name, default))
    if value is None:
        raise KeyError(f"{name} is neither in DJANGOSTACK_SECRETS_FILE nor in the environment")
    return value


SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "channels",
    "chat",
]
if importlib.util.find_spec("daphne") is None:  # only needed when it is the ASGI server
    INSTALLED_APPS.remove("daphne")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatsite.served_by.ServedByMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

if os.environ.get("DJANGO_DB_ENGINE", "mysql") == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("DJANGO_DB_NAME", str(BASE_DIR / "db.sqlite3")),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": os.environ.get("DJANGO_DB_HOST", "mysql"),
            "PORT": os.environ.get("DJANGO_DB_PORT", "3306"),
            "NAME": os.environ.get("DJANGO_DB_NAME", "chat"),
            "USER": os.environ.get("DJANGO_DB_USER", "chat"),
            "PASSWORD": env_secret("DJANGO_DB_PASSWORD", ""),
            "CONN_MAX_AGE": int(os.environ.get("DJANGO_DB_CONN_MAX_AGE", "0")),
            # A persistent connection is checked before reuse: a restarted MySQL costs no failed request.
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"charset": "utf8mb4"},
        }
    }
    # The ORM's queries of chat.store, in the few threads of its own pool: a connection kept in each
    # serves every socket (health-checked before reuse); its batches of messages, on the event loop,
    # keep theirs as long. Requests keep the default alias, connected per request: Django's ASGI
    # handler gives each its own thread.
    DATABASES["consumers"] = {
        **DATABASES["default"],
        "CONN_MAX_AGE": int(os.environ.get("DJANGO_DB_CONSUMER_CONN_MAX_AGE", "300")),
        "TEST": {"MIRROR": "default"},
    }

if os.environ.get("REDIS_HOST"):
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from redis.retry import Retry

    # core: a Redis list per server process, up to `capacity` messages for `expiry` seconds;
    # pubsub: a group message published once to each subscribed process, nothing buffered.
    pubsub = os.environ.get("CHANNEL_LAYER_BACKEND", "core") == "pubsub"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": f"channels_redis.{'pubsub.RedisPubSubChannelLayer' if pubsub else 'core.RedisChannelLayer'}",
            "CONFIG": {
                "hosts": [
                    {
                        "address": "redis://{}:{}/{}".format(
                            os.environ["REDIS_HOST"],
                            os.environ.get("REDIS_PORT", "6379"),
                            os.environ.get("REDIS_DB", "0"),
                        ),
                        "password": env_secret("REDIS_PASSWORD", "") or None,
                        # A restarted Redis leaves dead connections in every worker's pool: ping one
                        # that sat idle before using it, and retry a command on a new connection when
                        # the old one turns out dead (without this, the first WebSocket after a Redis
                        # restart fails with a 500).
                        "health_check_interval": 5,
                        "retry": Retry(ExponentialBackoff(cap=2, base=0.1), 6),
                        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                        "socket_keepalive": True,
                        "max_connections": int(os.environ.get("CHANNEL_LAYER_MAX_CONNECTIONS", "1000")),
                    }
                ],
            }
            | (
                {}
                if pubsub
                else {
                    "capacity": int(os.environ.get("CHANNEL_LAYER_CAPACITY", "100")),
                    "expiry": int(os.environ.get("CHANNEL_LAYER_EXPIRY", "60")),
                }
            ),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    }
}

# Behind nginx: trust its X-Forwarded-Proto, keep cookies and HSTS strict when TLS is on.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST", True)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

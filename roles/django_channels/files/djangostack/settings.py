"""The settings overlay: the project's own settings module, imported unchanged, then what the stack
owns set over it. DJANGO_SETTINGS_MODULE names this module; DJANGOSTACK_USER_SETTINGS names the
project's. DJANGOSTACK_KEEP lists the groups left as the project has them (database,
channel_layers, caches, secret_key, debug, hosts, static, media, proxy, https)."""

import importlib
import importlib.util
import os
import re

from djangostack import prepare, redis_url, secrets

# Also in a process that did not start from the entry point (docker exec ... manage.py shell).
prepare(os.environ)
_user = importlib.import_module(os.environ["DJANGOSTACK_USER_SETTINGS"])
globals().update({name: getattr(_user, name) for name in dir(_user) if name.isupper()})

_env = os.environ
_keep = {group.strip() for group in _env.get("DJANGOSTACK_KEEP", "").split(",") if group.strip()}
_secrets = secrets()


def _bool(name: str, default: str = "false") -> bool:
    return _env.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    return [item.strip() for item in _env.get(name, "").split(",") if item.strip()]


def _local(location: object) -> bool:
    """Whether a cache location points at this container (a server the stack does not run)."""
    text = " ".join(location) if isinstance(location, list | tuple) else str(location)
    return not text or text.startswith("unix:") or any(h in text for h in ("127.0.0.1", "localhost", "[::1]"))


if "secret_key" not in _keep:
    SECRET_KEY = _secrets.get("DJANGO_SECRET_KEY") or _env["DJANGO_SECRET_KEY"]

if "debug" not in _keep:
    DEBUG = _bool("DJANGO_DEBUG")

if "hosts" not in _keep:
    ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS")
    CSRF_TRUSTED_ORIGINS = _list("DJANGO_CSRF_TRUSTED_ORIGINS")

if "database" not in _keep and "DJANGO_DB_HOST" in _env:
    if importlib.util.find_spec("MySQLdb") is None:  # no mysqlclient: the pure-Python driver stands in
        import pymysql

        pymysql.install_as_MySQLdb()
    DATABASES = {
        **globals().get("DATABASES", {}),
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": _env["DJANGO_DB_HOST"],
            "PORT": _env.get("DJANGO_DB_PORT", "3306"),
            "NAME": _env.get("DJANGO_DB_NAME", ""),
            "USER": _env.get("DJANGO_DB_USER", ""),
            "PASSWORD": _secrets.get("DJANGO_DB_PASSWORD", ""),
            "CONN_MAX_AGE": int(_env.get("DJANGO_DB_CONN_MAX_AGE", "0")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"charset": "utf8mb4"},
        },
    }

_layer_backends = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}

if "channel_layers" not in _keep and "REDIS_HOST" in _env:
    _layer = globals().get("CHANNEL_LAYERS", {}).get("default", {})
    _backend = _layer.get("BACKEND", "")
    # The project's Redis layer keeps its options (a pub/sub layer, a prefix, ...); any other
    # (in-memory) becomes the Redis layer CHANNEL_LAYER_BACKEND names.
    _ours = not _backend.startswith("channels_redis.")
    _config = {} if _ours else dict(_layer.get("CONFIG", {}))
    _hosts = _config.get("hosts") or [{}]
    _host = dict(_hosts[0]) if isinstance(_hosts[0], dict) else {}
    for _key in ("address", "host", "port", "db", "password"):
        _host.pop(_key, None)
    _host.setdefault("max_connections", int(_env.get("CHANNEL_LAYER_MAX_CONNECTIONS", "1000")))
    # redis-py 8 reads with a 5 s timeout by default, the time channels_redis blocks in BZPOPMIN
    # for a message: an idle runworker died of TimeoutError. Dead connections are found by keepalive.
    _host.setdefault("socket_timeout", 30)
    _host.setdefault("socket_keepalive", True)
    _config["hosts"] = [{**_host, "address": redis_url(_env, _env.get("REDIS_DB", "0"))}]
    if _ours:
        _backend = _layer_backends[_env.get("CHANNEL_LAYER_BACKEND", "core")]
    if _backend == _layer_backends["core"]:
        _config.setdefault("capacity", int(_env.get("CHANNEL_LAYER_CAPACITY", "100")))
        _config.setdefault("expiry", int(_env.get("CHANNEL_LAYER_EXPIRY", "60")))
    CHANNEL_LAYERS = {
        **globals().get("CHANNEL_LAYERS", {}),
        "default": {**_layer, "BACKEND": _backend, "CONFIG": _config},
    }

if "caches" not in _keep and "REDIS_HOST" in _env:
    _caches = {}
    for _alias, _cache in globals().get("CACHES", {}).items():
        _cache = dict(_cache)
        _kind = _cache.get("BACKEND", "").lower()
        if "redis" in _kind and _local(_cache.get("LOCATION", "")):
            _cache["LOCATION"] = redis_url(_env, _env.get("DJANGO_CACHE_REDIS_DB", "1"))
        elif "memcache" in _kind and _local(_cache.get("LOCATION", "")):
            # The stack runs no memcached: a per-process cache keeps the app working.
            _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": _alias}
        _caches[_alias] = _cache
    if _caches:
        CACHES = _caches

if "static" not in _keep:
    STATIC_ROOT = _env.get("DJANGO_STATIC_ROOT", "/srv/static")
    STATIC_URL = _env.get("DJANGO_STATIC_URL", "/static/")

if "media" not in _keep:
    MEDIA_ROOT = _env.get("DJANGO_MEDIA_ROOT", "/srv/media")
    MEDIA_URL = _env.get("DJANGO_MEDIA_URL", "/media/")

if "proxy" not in _keep:
    # Behind nginx: its X-Forwarded-Proto and Host are the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

if "https" not in _keep:
    SECURE_SSL_REDIRECT = _bool("DJANGO_SECURE_SSL_REDIRECT")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _bool("DJANGO_SECURE_COOKIES")
    SECURE_HSTS_SECONDS = int(_env.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _bool("DJANGO_SECURE_HSTS_PRELOAD")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Health checks reach the app server directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [
        *globals().get("SECURE_REDIRECT_EXEMPT", []),
        "^" + re.escape(_env.get("DJANGOSTACK_HEALTH_PATH", "/_djangostack/health").lstrip("/")) + "$",
    ]

if not globals().get("ASGI_APPLICATION") and _env.get("DJANGOSTACK_ASGI_APPLICATION"):
    # runworker routes channel messages through it.
    ASGI_APPLICATION = _env["DJANGOSTACK_ASGI_APPLICATION"].replace(":", ".")

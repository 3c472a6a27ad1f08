# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check role settings against named formats, for messages that name the variable and what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

# Lower-case, as the image repository that is derived from the stack's name must be.
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$"
)
# What ALLOWED_HOSTS and server_name accept: a host name, optionally with a leading dot or a
# leading "*." wildcard, or an address.
_SERVER_NAME = re.compile(r"^(\*\.|\.)?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
_DB_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_DB_USER = re.compile(r"^[A-Za-z0-9_]{1,32}$")
# Accounts MySQL and MariaDB keep for themselves (or the images create): never the app's user.
_RESERVED_DB_USERS = {
    "root",
    "mysql",
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "debian-sys-maint",
    "healthcheck",
    "public",
}
_DOCKER_MEMORY = re.compile(r"^([0-9]+)([bkmg]?)$", re.I)
_DOCKER_SIZE = re.compile(r"^[1-9][0-9]*[kmg]$", re.I)
_DOCKER_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")
_REDIS_MEMORY = re.compile(r"^[0-9]+(b|k|kb|m|mb|g|gb)?$", re.I)
_MYSQL_SIZE = re.compile(r"^[1-9][0-9]*[kmgt]?$", re.I)
_NGINX_SIZE = re.compile(r"^[0-9]+[km]?$", re.I)
_NGINX_TIME = re.compile(r"^([0-9]+(ms|s|m|h|d|w|M|y)?)+$")
_NGINX_RATE = re.compile(r"^[1-9][0-9]*r/[sm]$")
_URL_PREFIX = re.compile(r"^/([A-Za-z0-9._~!$&'()*+,;=:@%-]+/)*$")
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_CONFIG_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_COMMAND_NAME = re.compile(r"^[A-Za-z][A-Za-z|-]*$")
_CIPHER = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_MIME = re.compile(r"^[a-z]+/[a-zA-Z0-9.+*-]+$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ASGI = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*$")
_CAPABILITY = re.compile(r"^(CAP_)?[A-Z_]+$")
_TRAILING = re.compile(r"[\d\W_]+$")
# The character sets MySQL 8 and MariaDB 10.11 share (SHOW CHARACTER SET).
MYSQL_CHARSETS = (
    "armscii8 ascii big5 binary cp1250 cp1251 cp1256 cp1257 cp850 cp852 cp866 cp932 dec8 eucjpms euckr gb18030"
    " gb2312 gbk geostd8 greek hebrew hp8 keybcs2 koi8r koi8u latin1 latin2 latin5 latin7 macce macroman sjis"
    " swe7 tis620 ucs2 ujis utf16 utf16le utf32 utf8 utf8mb3 utf8mb4"
).split()
# Docker refuses a memory limit below 6 MiB.
_DOCKER_MEMORY_MIN = 6 * 1024 * 1024
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.match(value))


def _is_address(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _is_host(value: Any) -> bool:
    return isinstance(value, str) and (_is_address(value) or bool(_HOSTNAME.match(value)))


def _is_server_name(value: Any) -> bool:
    return isinstance(value, str) and (_is_address(value) or bool(_SERVER_NAME.match(value)))


def _is_cidr(value: Any) -> bool:
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_docker_memory(value: Any) -> bool:
    match = _DOCKER_MEMORY.match(str(value)) if isinstance(value, (str, int)) else None
    if not match:
        return False
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    return size == 0 or size >= _DOCKER_MEMORY_MIN


def _is_nginx_buffer(value: Any) -> bool:
    """An access log buffer of at most 4k, the size up to which a pipe write is not split, or ''."""
    if value == "":
        return True
    match = re.fullmatch(r"([1-9][0-9]*)(k?)", str(value))
    return bool(match) and int(match.group(1)) * (1024 if match.group(2) else 1) <= 4096


def _list_of(check: Callable[[Any], bool], nonempty: bool = False) -> Callable[[Any], bool]:
    def checked(value: Any) -> bool:
        if not isinstance(value, list) or (nonempty and not value):
            return False
        return all(check(item) for item in value)

    return checked


def _dict_of(key: Callable[[Any], bool], item: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def checked(value: Any) -> bool:
        return isinstance(value, Mapping) and all(key(k) and item(v) for k, v in value.items())

    return checked


def _one_line(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and "\n" not in str(value)


def _redis_commands(value: Any) -> bool:
    needed = {"PING", "AUTH", "EVAL", "EVALSHA", "SYNC", "PSYNC", "REPLCONF", "ACL", "HELLO", "CLIENT"}
    return _list_of(_matches(_COMMAND_NAME))(value) and not needed & {str(c).upper() for c in value}


def _is_relative_path(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.strip() == value != ""
        and not value.startswith("/")
        and ".." not in value.split("/")
        and "\n" not in value
    )


def _is_command(value: Any, empty: bool = False) -> bool:
    if isinstance(value, str):
        return _one_line(value) and (empty or value.strip() != "")
    return isinstance(value, list) and (empty or value != []) and all(isinstance(a, str) and a for a in value)


_PROCESS_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}$")


def _is_processes(value: Any) -> bool:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return False
    names = [item.get("name") for item in value]
    return len(set(map(str, names))) == len(names) and all(
        set(item) <= {"name", "command", "replicas", "healthcheck"}
        and isinstance(item.get("name"), str)
        and bool(_PROCESS_NAME.match(item["name"]))
        and not item["name"].endswith("-")
        and _is_command(item.get("command"))
        and (_integer(item.get("replicas", 1)) or 0) >= 1
        and _is_command(item.get("healthcheck", ""), empty=True)
        for item in value
    )


# name: (check, what is allowed)
FORMATS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "stack_name": (
        _matches(_STACK_NAME),
        "1 to 40 characters from a-z, 0-9 and '-', starting with a letter or digit",
    ),
    "name": (
        _matches(_NAME),
        "a Docker object name: 1 to 63 characters from a-z, A-Z, 0-9, '_', '.' and '-', starting with a letter or digit",
    ),
    "host": (_is_host, "a host name or an IP address"),
    "address": (
        _is_address,
        "an IP address such as 10.0.0.5 (0.0.0.0 for every address), where Docker can publish a port",
    ),
    "cidr_or_empty": (
        lambda v: v == "" or _is_cidr(v),
        "a subnet in CIDR form such as 172.30.0.0/24, or '' to let Docker choose",
    ),
    "absolute_path": (
        lambda v: isinstance(v, str) and v.startswith("/") and "\n" not in v,
        "an absolute path",
    ),
    "path_or_empty": (lambda v: isinstance(v, str) and "\n" not in v, "a path, or ''"),
    "version": (_matches(re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")), "a version such as 2.0.0"),
    "absolute_path_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and v.startswith("/") and "\n" not in v),
        "an absolute path, or ''",
    ),
    "mysql_charset": (lambda v: v in MYSQL_CHARSETS, "a MySQL character set such as utf8mb4 or latin1"),
    "mysql_collation": (
        lambda v: isinstance(v, str) and (v == "binary" or v.split("_", 1)[0] in MYSQL_CHARSETS and "_" in v),
        "a MySQL collation such as utf8mb4_unicode_ci",
    ),
    "mysql_host": (
        _matches(re.compile(r"^[A-Za-z0-9.%_:-]{1,255}$")),
        "a MySQL account host such as %, 10.0.0.% or app.example.com",
    ),
    "db_name": (_matches(_DB_NAME), "1 to 64 characters from A-Z, a-z, 0-9 and _"),
    "db_user": (
        lambda v: isinstance(v, str) and bool(_DB_USER.match(v)) and v.lower() not in _RESERVED_DB_USERS,
        "1 to 32 characters from A-Z, a-z, 0-9 and _, and not an account the server keeps for itself"
        f" ({', '.join(sorted(_RESERVED_DB_USERS))})",
    ),
    "server_names": (
        _list_of(_is_server_name, nonempty=True),
        "a non-empty list of host names (a leading '.' or '*.' allowed) or IP addresses, without scheme or port",
    ),
    "allowed_hosts": (
        _list_of(lambda v: v == "*" or _is_server_name(v), nonempty=True),
        "a non-empty list of host names (a leading '.' or '*.' allowed), IP addresses or '*', without scheme or port",
    ),
    "origins": (
        _list_of(_matches(re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$"))),
        "a list of origins such as https://example.com (scheme, host and an optional port)",
    ),
    "port": (lambda v: (_integer(v) or 0) in range(1, 65536), "a port number from 1 to 65535"),
    "cpus": (
        lambda v: (_number(v) if _number(v) is not None else -1) >= 0,
        "a number of CPUs such as 1.5 (0: no limit)",
    ),
    "docker_memory": (
        _is_docker_memory,
        "a Docker memory size of at least 6m, such as 512m or 1g (0: no limit)",
    ),
    "docker_size": (_matches(_DOCKER_SIZE), "a size such as 10m, 512k or 1g"),
    "docker_duration": (
        lambda v: isinstance(v, str)
        and bool(_DOCKER_DURATION.match(v))
        and not re.fullmatch(r"[0.]+[a-z]+", v),
        "a Docker duration such as 2s, 500ms or 1m30s",
    ),
    "redis_memory": (
        _matches(_REDIS_MEMORY),
        "a Redis memory size such as 256mb, 1gb or 100000 (0: no limit)",
    ),
    "mysql_size": (_matches(_MYSQL_SIZE), "a MySQL size such as 256M, 1G or 134217728"),
    "nginx_size": (_matches(_NGINX_SIZE), "an nginx size such as 10m or 512k (0: no limit)"),
    "nginx_time": (
        lambda v: bool(_NGINX_TIME.match(str(v))) and _integer(v) != 0 and not str(v).startswith("0"),
        "an nginx time such as 60s, 500ms or 1h",
    ),
    "nginx_rate_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and bool(_NGINX_RATE.match(v))),
        "a rate such as 20r/s or 600r/m, or '' for no limit",
    ),
    "nginx_buffer": (
        _is_nginx_buffer,
        "a size from 1 to 4096 bytes such as 4k or 2048 (the size up to which a pipe write is not split), or '' for none",
    ),
    "nginx_next_upstream": (
        lambda v: isinstance(v, str)
        and set(v.split())
        <= {
            "error",
            "timeout",
            "invalid_header",
            "http_500",
            "http_502",
            "http_503",
            "http_504",
            "http_403",
            "http_404",
            "http_429",
            "non_idempotent",
            "off",
        }
        and v.split() != [],
        "cases of nginx's proxy_next_upstream, such as 'error timeout http_502' (error, timeout, invalid_header,"
        " http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, or off)",
    ),
    "worker_processes": (
        lambda v: v == "auto" or (_integer(v) or 0) >= 1,
        "auto or a number of processes of at least 1",
    ),
    "url_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and bool(re.fullmatch(r"https?://[^\s/]+(/\S*)?", v))),
        "an http(s) URL such as https://pypi.example.com/simple, or ''",
    ),
    "url_prefix": (
        _matches(_URL_PREFIX),
        "a URL path that starts and ends with '/', such as /static/",
    ),
    "url_path": (_matches(_URL_PATH), "a URL path that starts with '/', such as /healthz"),
    "upstreams": (
        _list_of(lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z0-9.\[\]:_-]+:[0-9]{1,5}", v))),
        "a list of app servers as host:port",
    ),
    "image": (
        _matches(_IMAGE),
        "an image reference such as mysql:8.4 or registry.example.com/app:1.2 (lower-case name, no spaces)",
    ),
    "image_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and bool(_IMAGE.match(v))),
        "an image reference such as registry.example.com/app:1.2, or ''",
    ),
    "image_repository": (
        _matches(re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*$")),
        "an image repository without a tag, such as djangostack/app",
    ),
    "env": (
        _dict_of(_matches(_ENV_NAME), _one_line),
        "a mapping of environment variable names (A-Z, a-z, 0-9 and _) to one-line values",
    ),
    "labels": (_dict_of(_matches(_LABEL_NAME), _one_line), "a mapping of label names to one-line values"),
    "headers": (
        _dict_of(_matches(_HEADER_NAME), lambda v: _one_line(v) and '"' not in str(v)),
        "a mapping of HTTP header names to one-line values without double quotes",
    ),
    "mysql_config": (
        _dict_of(_matches(_CONFIG_NAME), _one_line),
        "a mapping of [mysqld] option names (a-z, 0-9, _ and -) to one-line values",
    ),
    "redis_config": (
        _dict_of(_matches(_CONFIG_NAME), _one_line),
        "a mapping of redis.conf directive names (a-z, 0-9, _ and -) to one-line values",
    ),
    "redis_commands": (
        _redis_commands,
        "a list of Redis command names without PING, AUTH, HELLO, CLIENT, ACL, EVAL and EVALSHA (the health check"
        " and the channel layer use them) or SYNC, PSYNC and REPLCONF (backups use them)",
    ),
    "capabilities": (
        _list_of(_matches(_CAPABILITY)),
        "a list of Linux capability names such as NET_BIND_SERVICE",
    ),
    "tls_ciphers": (
        _list_of(_matches(_CIPHER), nonempty=True),
        "a non-empty list of OpenSSL cipher suite names",
    ),
    "mime_types": (_list_of(_matches(_MIME)), "a list of MIME types such as text/css"),
    "strings": (_list_of(lambda v: isinstance(v, str) and v != ""), "a list of non-empty strings"),
    "nonempty": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    "relative_path_or_empty": (
        lambda v: v == "" or _is_relative_path(v),
        "a path inside the source directory, relative to it, such as src or docker/Dockerfile, or '' to find it",
    ),
    "python_module_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and bool(_DOTTED.match(v))),
        "a dotted Python module name such as mysite.settings, or '' to read it from manage.py",
    ),
    "asgi_application_or_empty": (
        lambda v: v == "" or (isinstance(v, str) and bool(_ASGI.match(v))),
        "module:attribute such as mysite.asgi:application, or '' to find it",
    ),
    "processes": (
        _is_processes,
        "a list of {name, command, replicas, healthcheck}: a unique name of a-z, 0-9 and - (starting with a letter,"
        " at most 30 characters), a non-empty command (a string or a list of strings), replicas a whole number of"
        " at least 1 (default 1), healthcheck a command or '' for the database and channel-layer check",
    ),
}


def _count(minimum: int) -> tuple[Callable[[Any], bool], str]:
    return (
        lambda v: (_integer(v) if _integer(v) is not None else minimum - 1) >= minimum,
        f"a whole number of at least {minimum}",
    )


def _weak(value: Any, min_length: int, weak_values: list[str]) -> bool:
    if not isinstance(value, str) or len(value) < min_length:
        return True
    weak = {str(item).lower() for item in weak_values}
    lowered = value.lower()
    return lowered in weak or _TRAILING.sub("", lowered) in weak or len(set(value)) < 4


def _format(name: str) -> tuple[Callable[[Any], bool], str]:
    if name.startswith("count_"):
        return _count(int(name[len("count_") :]))
    if name not in FORMATS:
        raise ValueError(f"setting_errors: unknown format {name!r}")
    return FORMATS[name]


def setting_errors(
    values: Mapping[str, Any] | list[Any],
    formats: Mapping[str, str],
    secret_min_length: int = 12,
    secret_weak_values: list[str] | None = None,
) -> list[str]:
    """One message per setting whose value does not have its format, in the order of ``formats``.

    ``values`` maps each variable name to its value, or lists the values in the order of
    ``formats`` (what ``query('ansible.builtin.vars', *formats)`` returns). A ``secret`` format is
    checked against the length and the well-known values given, and its value is never shown.
    """
    if not isinstance(values, Mapping):
        values = dict(zip(formats, values, strict=True))
    errors = []
    for name, format_name in formats.items():
        if name not in values:
            continue
        value = values[name]
        if format_name == "secret" or format_name.startswith("secret_"):
            length = int(format_name[len("secret_") :]) if format_name != "secret" else int(secret_min_length)
            if _weak(value, length, secret_weak_values or []) or (
                format_name != "secret" and len(set(str(value))) < 5
            ):
                errors.append(
                    f"{name} (a secret, not shown) must be a string of at least {length} characters that is not"
                    " a well-known value such as 'password' or 'changeme'; generate one, for example with"
                    " 'openssl rand -base64 48', and keep it in a vault."
                )
            continue
        check, allowed = _format(format_name)
        if not check(value):
            errors.append(f"{name} is {value!r}: it must be {allowed}.")
    return errors


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"setting_errors": setting_errors}

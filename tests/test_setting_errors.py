"""The setting_errors filter: each format takes what its service takes and refuses the rest, and a
message names the variable, the value and what is allowed, but never a secret."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.djangostack.channels.plugins.filter.setting_errors import (  # noqa: E402
    FORMATS,
    setting_errors,
)

# format: (values it takes, values it refuses)
CASES: dict[str, tuple[list[Any], list[Any]]] = {
    "stack_name": (["djangostack", "chat-2"], ["Bad Name!", "UPPER", "", "-lead", "x" * 41]),
    "name": (["djangostack-mysql", "a.b_c"], ["", "has space", "-x", "x" * 64]),
    "host": (
        ["db.example.internal", "10.0.0.5", "::1", "localhost"],
        ["not an address", "", "a_b", "http://x"],
    ),
    "address": (["10.0.0.5", "0.0.0.0", "::1"], ["localhost", "10.0.0.256", ""]),
    "cidr_or_empty": (["", "172.30.0.0/24", "fd00::/64"], ["172.30.0.0", "300.0.0.0/8", "x/24"]),
    "absolute_path": (["/opt/djangostack"], ["relative/dir", "", "./x"]),
    "path_or_empty": (["", "backups/chat.sql.gz", "/tmp/x"], ["a\nb", 5]),
    "version": (["2.0.0", "1.2.0-rc1"], ["", "two words", "-1"]),
    "absolute_path_or_empty": (["", "/etc/ssl/x.pem"], ["x.pem"]),
    "db_name": (["chat", "Chat_2"], ["chat; DROP", "", "x" * 65, "a-b"]),
    "db_user": (["chat", "app_user"], ["root", "ROOT", "mysql.sys", "mariadb.sys", "", "a-b", "x" * 33]),
    "mysql_charset": (["utf8mb4", "latin1"], ["klingon", "", "UTF8"]),
    "mysql_collation": (["utf8mb4_unicode_ci", "binary"], ["klingon", "utf8mb4", ""]),
    "server_names": (
        [["example.com", "127.0.0.1", "*.example.com", ".example.com"]],
        [[], ["exa mple.com"], ["https://x"], "example.com"],
    ),
    "allowed_hosts": ([["example.com", "*"]], [[], ["https://example.com"], ["example.com:80"]]),
    "origins": ([["https://example.com", "http://localhost:8080"], []], [["example.com"], ["ftp://x"]]),
    "port": ([1, 80, 65535, "8080"], [0, 65536, -1, "six", "", True, 1.5]),
    "count_1": ([1, 2, "3"], [0, -1, "many", "", True]),
    "count_0": ([0, 5], [-2, "x"]),
    "cpus": ([0, 1.5, "2", 2], [-1, "fast", ""]),
    "docker_memory": (["0", "512m", "1g", "6m", "1G", 0], ["lots", "5m", "1", "-1", "1.5g", ""]),
    "docker_size": (["10m", "512k", "1g"], ["0", "10", "lots", ""]),
    "docker_duration": (["2s", "500ms", "1m30s"], ["0s", "2", "soon", "", "-1s"]),
    "redis_memory": (["256mb", "1gb", "100000", "0", "100k"], ["lots", "1 gb", "", "-5"]),
    "mysql_size": (["256M", "1G", "134217728"], ["huge", "0", "", "1.5G"]),
    "nginx_size": (["10m", "512k", "0"], ["4 gigabytes", "1g", ""]),
    "nginx_time": (["60s", "500ms", "1h", "65"], ["0", "0s", "soon", "", "-1s"]),
    "nginx_rate_or_empty": (["", "20r/s", "600r/m"], ["fast", "0r/s", "20r/h"]),
    "nginx_buffer": (["", "4k", "4096", "512"], ["64k", "4097", "0", "1s"]),
    "nginx_next_upstream": (
        ["error timeout", "error timeout http_500 http_502"],
        ["", "sometimes", "error, timeout"],
    ),
    "worker_processes": (["auto", 2, "4"], [0, "many", ""]),
    "url_or_empty": (
        ["", "https://pypi.example.com/simple", "http://10.0.0.5:3141/root/pypi/"],
        ["pypi.example.com", "ftp://x", "https://"],
    ),
    "url_prefix": (["/", "/ws/", "/static/app/"], ["ws", "/ws", "ws/", "", "/a b/"]),
    "url_path": (["/healthz", "/"], ["healthz", "", "/a b"]),
    "upstreams": ([["app-1:8000", "10.0.0.21:8001"], []], [["app-1"], "app:1"]),
    "image": (
        ["mysql:8.4", "registry.example.com:5000/app:1.2", "djangostack/app"],
        ["MySQL:8.4", "a b", ""],
    ),
    "image_or_empty": (["", "app:1"], ["App:1"]),
    "image_repository": (["djangostack/app"], ["djangostack/app:1", "App", ""]),
    "labels": ([{"io.example/team": "chat"}], [{"bad label": "x"}, {"x": "a\nb"}]),
    "mysql_host": (["%", "10.0.0.%", "app.example.com"], ["", "a b", "x" * 256]),
    "env": ([{"A_B": "x", "N": 1}, {}], [{"bad name": "x"}, {"A": "two\nlines"}, ["A=1"]]),
    "headers": ([{"X-Frame-Options": "DENY"}], [{"Bad Header": "x"}, {"X": 'a"b'}]),
    "mysql_config": ([{"slow_query_log": 1, "long-query-time": 2}], [{"Bad": 1}, {"x": "a\nb"}]),
    "redis_config": ([{"hz": 10}], [{"hz": "10\nflushall"}]),
    "redis_commands": ([["FLUSHALL", "CONFIG"], []], [["FLUSHALL", "EVAL"], ["PING"], ["bad name"]]),
    "capabilities": ([["NET_BIND_SERVICE"], []], [["net_bind_service"], ["ALL CAPS"]]),
    "tls_ciphers": ([["ECDHE-RSA-AES128-GCM-SHA256"]], [[], ["bad cipher"]]),
    "mime_types": ([["text/css", "image/svg+xml"]], [["css"]]),
    "strings": ([["docker.io"], []], [[""], [1]]),
    "nonempty": (["x"], ["", "  "]),
    "relative_path_or_empty": (
        ["", "src", "docker/Dockerfile"],
        ["/srv/app", "../up", " src", "a/../../b", 3],
    ),
    "python_module_or_empty": (["", "mysite.settings"], ["mysite/settings", "1x", ["a"]]),
    "asgi_application_or_empty": (["", "mysite.asgi:application"], ["mysite.asgi", "mysite:app lication"]),
    "processes": (
        [
            [],
            [{"name": "worker", "command": "python manage.py runworker jobs"}],
            [{"name": "beat-1", "command": ["celery", "beat"], "replicas": 2, "healthcheck": ""}],
        ],
        [
            {"name": "worker"},
            [{"name": "Worker", "command": "x"}],
            [{"name": "worker", "command": ""}],
            [{"name": "worker", "command": "x", "replicas": 0}],
            [{"name": "worker", "command": "x", "replica": 2}],
            [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}],
            [{"name": "worker-", "command": "x"}],
            ["worker"],
        ],
    ),
}


def test_every_format_is_tried() -> None:
    assert set(FORMATS) <= set(CASES), sorted(set(FORMATS) - set(CASES))


@pytest.mark.parametrize("format_name", sorted(CASES))
def test_a_format_takes_good_values_and_refuses_bad_ones(format_name: str) -> None:
    good, bad = CASES[format_name]
    for value in good:
        assert setting_errors({"x": value}, {"x": format_name}) == [], (format_name, value)
    for value in bad:
        errors = setting_errors({"x": value}, {"x": format_name})
        assert len(errors) == 1, (format_name, value)
        assert errors[0].startswith(f"x is {value!r}: it must be "), errors[0]


def test_a_message_names_the_variable_the_value_and_what_is_allowed() -> None:
    assert setting_errors({"redis_maxmemory": "lots"}, {"redis_maxmemory": "redis_memory"}) == [
        "redis_maxmemory is 'lots': it must be a Redis memory size such as 256mb, 1gb or 100000 (0: no limit)."
    ]


def test_every_wrong_setting_is_named_in_one_call_in_order() -> None:
    formats = {"a_port": "port", "b_name": "db_name", "c_ok": "port"}
    errors = setting_errors([70000, "x;y", 80], formats)  # the values as query('vars', *formats) gives them
    assert [error.split(" ")[0] for error in errors] == ["a_port", "b_name"]


def test_secrets_are_checked_and_never_shown() -> None:
    weak = ["password", "changeme"]
    for value in ("short", "Password123!", "CHANGEME", "aaaaaaaaaaaaaaaa", 12345678901234):
        errors = setting_errors({"db": value}, {"db": "secret"}, 12, weak)
        assert len(errors) == 1 and str(value) not in errors[0], (value, errors)
        assert errors[0].startswith("db (a secret, not shown) must be a string of at least 12 characters")
    assert setting_errors({"db": "k7#Qv9-Lm2!xZp"}, {"db": "secret"}, 12, weak) == []
    key = "k3y-that-is-long-enough-for-a-password-only"
    assert "50 characters" in setting_errors({"key": key}, {"key": "secret_50"})[0]
    assert setting_errors({"key": "x" * 49 + "abcde"}, {"key": "secret_50"}) == []
    assert setting_errors({"key": "ab" * 30}, {"key": "secret_50"})  # fewer than 5 different characters


def test_every_role_names_only_known_formats_and_documented_options() -> None:
    for table in ROOT.glob("roles/*/vars/main.yml"):
        role = table.parents[1].name
        formats = yaml.safe_load(table.read_text())[f"{role}_setting_formats"]
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        options = set(specs["argument_specs"]["main"]["options"])
        for name, format_name in formats.items():
            # A format may depend on another setting: "{{ 'address' if x_publish | bool else 'host' }}".
            names = re.findall(r"'(\w+)'", format_name) if "{{" in format_name else [format_name]
            for one in names:
                assert one.startswith(("count_", "secret")) or one in FORMATS, (role, name, one)
            assert name in options, f"{role}: {name} has a format but is not an option of the role"


def test_a_certificate_covers_its_names_and_one_label_of_a_wildcard() -> None:
    from ansible_collections.djangostack.channels.plugins.filter.uncovered_names import uncovered_names

    sans = ["DNS:chat.example.com", "DNS:*.example.org", "IP:10.0.0.5"]
    names = [
        "chat.example.com",
        "CHAT.example.com.",
        "a.example.org",
        "a.b.example.org",
        "example.org",
        "10.0.0.5",
        "10.0.0.6",
    ]
    assert uncovered_names(names, sans) == ["a.b.example.org", "example.org", "10.0.0.6"]

"""The check_settings action: every wrong setting is named in one run, and secrets never are printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.djangostack.channels.plugins.action.check_settings import (  # noqa: E402
    settings_errors,
)

STACK: dict[str, Any] = {
    "stack_image_pattern": r"^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$",
    "stack_memory_pattern": r"^[0-9]+(\.[0-9]+)?[bkmgBKMG]?$",
    "stack_secret_min_length": 12,
    "stack_secret_weak_values": ["password", "changeme"],
}
GOOD: dict[str, Any] = {
    "rules": [{"ok": True, "msg": "never shown"}],
    "ports": {"nginx_http_port": 80, "mysql_publish_port": "3306"},
    "secrets": {"stack_db_password": "k7#Qv9-Lm2!xZp"},
    "images": {"mysql_image": "mariadb:10.11", "app": "registry.example.com:5000/app:1.2"},
    "memory": {"mysql_memory": "512m", "redis_memory": "0"},
    "cpus": {"mysql_cpus": 1.5, "redis_cpus": 0},
}


def errors(**changes: Any) -> list[str]:
    return settings_errors(**(GOOD | changes), stack=STACK)


def test_good_settings_pass() -> None:
    assert errors() == []


def test_every_wrong_setting_is_named_in_one_run() -> None:
    found = errors(
        rules=[{"ok": False, "msg": "stack_db_name must be short"}, {"ok": True, "msg": "fine"}],
        ports={"nginx_http_port": 70000, "redis_publish_port": "six", "ok_port": 443, "flag": True},
        secrets={"stack_db_password": "Password123!", "stack_redis_password": "", "good": "k7#Qv9-Lm2!xZp"},
        images={"mysql_image": "MySQL:8.4 latest"},
        memory={"mysql_memory": "lots"},
        cpus={"mysql_cpus": "two"},
    )
    assert len(found) == 5, found
    assert found[0] == "stack_db_name must be short"
    assert "nginx_http_port" in found[1] and "redis_publish_port" in found[1] and "flag" in found[1]
    assert "ok_port" not in found[1]
    assert found[2].startswith("stack_db_password, stack_redis_password:")
    assert "mysql_image" in found[3]
    assert "mysql_memory" in found[4] and "mysql_cpus" in found[4]


def test_secret_values_are_never_in_the_messages() -> None:
    for secret in ("tooshort-1", "Changeme2026!"):  # too short; well known once digits are dropped
        found = errors(secrets={"mysql_root_password": secret})
        assert found and "mysql_root_password" in found[0]
        assert all(secret not in message for message in found)

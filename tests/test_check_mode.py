"""--check --diff, what a careful user runs first, goes through on a host that has no stack yet,
says what it would do, and changes nothing."""

from __future__ import annotations

import re
from typing import Any

from site_runner import assert_nothing_changed, run_site


def test_check_mode_on_a_new_host_runs_through_and_changes_nothing(stack: dict[str, Any]) -> None:
    local_images = {
        "mysql_image": "djangostack/mariadb:10.11",
        "redis_image": "djangostack/redis:7.0",
        "nginx_image": "djangostack/nginx:1.22",
        "django_channels_base_image": "djangostack/python:3.11-bookworm",
    }
    result = run_site(stack, {"nginx_http_port": 18097, **local_images}, "--check", "--diff")
    assert result.returncode == 0, result.stdout[-4000:]
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", result.stdout)
    assert recap and int(recap.group(1)) > 0, "it says what would change"
    assert "would be built" in result.stdout
    # The diffs of the files it would write, secrets excepted.
    assert "+max_connections = " in result.stdout  # my.cnf
    assert "+DJANGO_ALLOWED_HOSTS=" in result.stdout  # app.env
    assert "bad-input-db-77d0e2b" not in result.stdout  # stack_db_password (site_runner.GOOD)
    assert_nothing_changed(stack)

"""Bad inventories fail in the site playbook's first play, before anything on the host changes.

Each case runs the real `site.yml` against this machine with a throwaway stack name and base
directory, then checks the error names the variable and that no file, network or container of
that stack exists. A control case proves the good baseline passes the same checks.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from site_runner import DROP, assert_nothing_changed, docker, run_site

# (case id, variables changed from the baseline, text the error must contain)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("missing mysql root password", {"mysql_root_password": DROP}, "mysql_root_password"),
    ("missing secret key", {"django_channels_secret_key": DROP}, "django_channels_secret_key"),
    ("weak redis password", {"stack_redis_password": "password123"}, "stack_redis_password"),
    ("short database password", {"stack_db_password": "short"}, "stack_db_password"),
    ("http port out of range", {"nginx_http_port": 70000}, "nginx_http_port"),
    ("mysql port out of range", {"mysql_publish_port": 0}, "mysql_publish_port"),
    ("redis port not a number", {"redis_publish_port": "six"}, "redis_publish_port"),
    ("app port out of range", {"django_channels_port": 65536}, "django_channels_port"),
    (
        "published app ports run past 65535",
        {"django_channels_publish_port": 65535},
        "django_channels_publish_port",
    ),
    ("unknown ASGI server", {"django_channels_server": "hypercorn"}, "django_channels_server"),
    (
        "allowed hosts not a list",
        {"django_channels_allowed_hosts": {"host": "example.com"}},
        "django_channels_allowed_hosts",
    ),
    (
        "invalid allowed host",
        {"django_channels_allowed_hosts": ["exa mple.com"]},
        "django_channels_allowed_hosts",
    ),
    ("zero replicas", {"django_channels_replicas": 0}, "django_channels_replicas"),
    ("replicas not a number", {"django_channels_replicas": "many"}, "django_channels_replicas"),
    ("TLS without certificate", {"nginx_tls": True}, "nginx_tls_certificate"),
    (
        "same HTTP and HTTPS port",
        {"nginx_tls": True, "nginx_tls_self_signed": True, "nginx_https_port": 80},
        "nginx_https_port",
    ),
    ("missing app source", {"django_channels_source": "/nonexistent/app"}, "django_channels_source"),
    (
        "malformed base image",
        {"django_channels_base_image": "Python:3.12 slim"},
        "django_channels_base_image",
    ),
    ("bad database name", {"stack_db_name": "chat; DROP"}, "stack_db_name"),
    # A stack role option, checked by its argument spec (every role depends on the stack role).
    ("stack timeout not a number", {"stack_healthy_timeout": "soon"}, "stack_healthy_timeout"),
    ("negative replicas", {"django_channels_replicas": -1}, "django_channels_replicas"),
    ("negative workers", {"django_channels_workers": -2}, "django_channels_workers"),
    ("well-known root password", {"mysql_root_password": "changeme"}, "mysql_root_password"),
    ("empty redis password", {"stack_redis_password": ""}, "stack_redis_password"),
    (
        "secret key shorter than Django's 50 characters",
        {"django_channels_secret_key": "k3y-that-is-long-enough-for-a-password-only"},
        "django_channels_secret_key",
    ),
    (
        "two services on one port",
        {
            "mysql_publish": True,
            "mysql_publish_address": "127.0.0.1",
            "mysql_publish_port": 18090,
            "nginx_http_port": 18090,
        },
        "nginx_http_port and mysql_publish_port",
    ),
    (
        "allowed host with a scheme",
        {"django_channels_allowed_hosts": ["https://example.com"]},
        "django_channels_allowed_hosts",
    ),
    ("debug not a boolean", {"django_channels_debug": "sometimes"}, "django_channels_debug"),
    ("obsolete TLS protocol", {"nginx_tls_protocols": ["SSLv3"]}, "nginx_tls_protocols"),
    ("malformed rate limit", {"nginx_rate_limit_app": "fast"}, "nginx_rate_limit_app"),
    # Above PIPE_BUF, the workers' writes to the container's output could interleave.
    ("access log buffer over 4k", {"nginx_access_log_buffer": "64k"}, "nginx_access_log_buffer"),
    (
        "channel layer command disabled",
        {"redis_disabled_commands": ["FLUSHALL", "EVAL"]},
        "redis_disabled_commands",
    ),
    ("malformed memory limit", {"mysql_memory": "lots"}, "mysql_memory"),
    ("malformed mysql image", {"mysql_image": "MySQL:8.4 latest"}, "mysql_image"),
    (
        "malformed app image",
        {"django_channels_image": "registry.example.com/App:1.0"},
        "django_channels_image",
    ),
]


def test_the_table_tries_at_least_25_bad_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nbad inputs tried: {len(CASES)} (each must fail before any change, naming its variable)")
    assert len(CASES) >= 25


def test_good_baseline_passes_the_checks(stack: dict[str, Any]) -> None:
    # Only the plays tagged `always` run: the checks and the closing message (not the lock).
    result = run_site(stack, {}, "--tags", "checks-only", "--skip-tags", "lock")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Check the nginx settings that argument specs cannot express." in result.stdout
    assert_nothing_changed(stack)


@pytest.mark.parametrize(
    ("variables", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_fails_before_any_change(
    stack: dict[str, Any], variables: dict[str, Any], expected: str
) -> None:
    result = run_site(stack, variables)
    output = result.stdout + result.stderr
    try:
        assert result.returncode != 0, "the bad input was accepted"
        assert "Check every host's settings before anything changes" in result.stdout
        assert "Prepare the Docker hosts" not in result.stdout, "the run went past the checks"
        starts = [index for index in (output.find("[ERROR]"), output.find("fatal:")) if index >= 0]
        assert starts, output[-3000:]
        assert expected in output[min(starts) :], output[-3000:]  # the error itself names the variable
        assert_nothing_changed(stack)
    finally:
        if result.returncode == 0:  # a wrongly accepted input deployed a stack: remove it
            subprocess.run(
                [
                    "docker",
                    "rm",
                    "-f",
                    *docker(
                        "ps", "-aq", "--filter", f"label=io.djangostack.stack={stack['stack_name']}"
                    ).split(),
                ],
                check=False,
                capture_output=True,
            )

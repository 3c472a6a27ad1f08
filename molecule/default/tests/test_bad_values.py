"""No input hurts what runs: for every option of every role, a wrong but plausible value derived from
its argument spec and its format (roles/*/vars/main.yml) is tried against this live stack. Each must
be refused in the first play, before anything changes, or caught by a configuration test before it
goes live, or put back by the revert, while a probe GETs a page through nginx every 200 ms and a
WebSocket client stays in a room: no probe may fail, and the socket may drop only in a revert.

Cases whose failure happens in the checks are tried together, one run per role and kind (Ansible's
argument validation names every wrong type of a role at once, its format check every wrong
format); a case a group run does not name is tried alone, as are the cases a check cannot catch.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
import websockets
import yaml
from scenario import PROJECT, converge
from stack import container_names, insecure_tls, inspect

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # self-signed test certificate

testinfra_hosts = ["stack-host"]

# A wrong but plausible value of each format: what a person mistypes.
BAD_FORMAT_VALUES: dict[str, Any] = {
    "stack_name": "Bad Name!",
    "name": "bad name!",
    "host": "not an address",
    "address": "localhost:80",
    "cidr_or_empty": "172.30.0.0",
    "absolute_path": "relative/dir",
    "absolute_path_or_empty": "relative/file.pem",
    "path_or_empty": "two\nlines",
    "version": "two words",
    "db_name": "chat; DROP",
    "db_user": "root",
    "mysql_charset": "klingon",
    "mysql_collation": "klingon",
    "mysql_host": "no host!",
    "server_names": [],
    "allowed_hosts": ["https://example.com"],
    "origins": ["example.com"],
    "port": 70000,
    "cpus": -1,
    "docker_memory": "lots",
    "docker_size": "10 megabytes",
    "docker_duration": "soon",
    "redis_memory": "lots",
    "mysql_size": "huge",
    "nginx_size": "4 gigabytes",
    "nginx_time": "soon",
    "nginx_rate_or_empty": "fast",
    "nginx_buffer": "64k",
    "nginx_next_upstream": "always",
    "worker_processes": "many",
    "url_or_empty": "pypi.example.com",
    "url_prefix": "ws",
    "url_path": "healthz",
    "upstreams": ["app-1"],
    "image": "MySQL:8.4 latest",
    "image_or_empty": "Registry.example.com/App:1.0",
    "image_repository": "djangostack/app:1",
    "env": {"not a name": "x"},
    "labels": {"bad label": "x"},
    "headers": {"Bad Header": "x"},
    "mysql_config": {"Max Connections": 10},
    "redis_config": {"hz": "10\nflushall"},
    "redis_commands": ["FLUSHALL", "EVAL"],
    "capabilities": ["all caps"],
    "tls_ciphers": [],
    "mime_types": ["css"],
    "strings": [""],
    "nonempty": "",
    "relative_path_or_empty": "/srv/app/requirements.txt",
    "python_module_or_empty": "mysite/settings",
    "asgi_application_or_empty": "mysite.asgi",
    "processes": [{"name": "Worker", "command": ""}],
    "secret": "short",
}
# A value of the wrong type, for the types argument validation converts (not str: anything is one).
BAD_TYPE_VALUES: dict[str, Any] = {
    "int": "not-a-number",
    "float": "not-a-number",
    "bool": "sometimes",
    "list": {"not": "a list"},
    "dict": ["not", "a", "dict"],
}
# Wrong values a check cannot refuse, as the value has its format: the configuration tests (the
# service's own test of its new configuration) or the revert must catch them.
LATE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("redis.conf a server refuses", {"redis_extra_config": {"hz": "fast"}}, "config test"),
    ("a collation MariaDB does not know", {"mysql_collation": "utf8mb4_klingon_ci"}, "config test"),
    (
        "an nginx header with an unknown variable",
        {"nginx_security_headers": {"X-Test": "$no_such_variable"}},
        "config test",
    ),
    (
        "settings Django's checks refuse",
        {"django_channels_env": {"DJANGO_SECURE_HSTS_SECONDS": "abc"}},
        "config test",
    ),
    (
        "a check command that fails, with new settings",
        {"django_channels_check_command": "exit 3", "django_channels_env": {"DJANGOSTACK_PROBE": "1"}},
        "config test",
    ),
    (
        "a Redis that listens elsewhere",
        {"redis_extra_config": {"port": 6390}, "stack_healthy_timeout": 30},
        "reverted",
    ),
    (
        "an app whose database does not resolve",
        {"django_channels_db_host": "nonexistent.invalid", "stack_healthy_timeout": 30},
        "reverted",
    ),
]


def specs() -> dict[str, dict[str, Any]]:
    """Each role's options (argument spec) with their format, the stack role's under 'stack'."""
    roles = {}
    for path in sorted((PROJECT / "roles").glob("*/meta/argument_specs.yml")):
        role = path.parents[1].name
        options = yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"]
        table = PROJECT / "roles" / role / "vars" / "main.yml"
        formats = (
            yaml.safe_load(table.read_text()).get(f"{role}_setting_formats", {}) if table.exists() else {}
        )
        roles[role] = {name: {**option, "format": formats.get(name, "")} for name, option in options.items()}
    return roles


def bad_format_value(option: dict[str, Any]) -> Any:
    """A wrong value of the option's format (for a format that depends on another setting, the stricter)."""
    name = option["format"]
    if "{{" in name:
        name = re.findall(r"'(\w+)'", name)[0]
    if name.startswith("count_"):
        return int(name.removeprefix("count_")) - 1
    if name.startswith("secret"):
        return "short"
    return BAD_FORMAT_VALUES[name]


def cases() -> list[tuple[str, str, str, Any]]:
    """(role, kind, option, wrong value) for every option: its type, its choices, its format."""
    found = []
    for role, options in specs().items():
        for name, option in options.items():
            if option.get("choices"):
                value = ["not-a-choice"] if option.get("type") == "list" else "not-a-choice"
                found.append((role, "type", name, value))
            elif option.get("type") in BAD_TYPE_VALUES:
                found.append((role, "type", name, BAD_TYPE_VALUES[option["type"]]))
            if option["format"]:
                found.append((role, "format", name, bad_format_value(option)))
    return found


class Probe(threading.Thread):
    """GETs / through nginx every 200 ms, and keeps a WebSocket client in a room, sending a message
    every 2 s and expecting it back; counts failures and drops, and when the socket dropped."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.stopped = base_url, threading.Event()
        self.sent = self.failed = 0
        self.failures: list[str] = []
        self.drops: list[float] = []
        self.chats = 0

    def run(self) -> None:
        socket_thread = threading.Thread(target=lambda: asyncio.run(self._socket()), daemon=True)
        socket_thread.start()
        session = requests.Session()
        while not self.stopped.is_set():
            self.sent += 1
            try:
                status = session.get(f"{self.base_url}/", verify=False, timeout=10).status_code
                if status != 200:
                    self.failed += 1
                    self.failures.append(f"{time.strftime('%H:%M:%S')} HTTP {status}")
            except requests.RequestException as error:
                self.failed += 1
                self.failures.append(f"{time.strftime('%H:%M:%S')} {error!r}"[:200])
            time.sleep(0.2)
        socket_thread.join(timeout=15)

    async def _socket(self) -> None:
        url = self.base_url.replace("https://", "wss://") + "/ws/chat/bad-values/"
        while not self.stopped.is_set():
            try:
                async with websockets.connect(url, ssl=insecure_tls(), origin=self.base_url) as socket:
                    while not self.stopped.is_set():
                        text = f"probe {uuid.uuid4().hex[:8]}"
                        await socket.send(json.dumps({"message": text}))
                        while json.loads(await asyncio.wait_for(socket.recv(), 10)).get("message") != text:
                            pass
                        self.chats += 1
                        await asyncio.sleep(2)
            except Exception:  # noqa: BLE001 - any drop is counted, then the client connects again
                if not self.stopped.is_set():
                    self.drops.append(time.monotonic())
                    await asyncio.sleep(1)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


@pytest.fixture(scope="module")
def v(host: Any) -> dict[str, Any]:
    return host.ansible.get_variables()


def stack_state(host: Any, v: dict[str, Any]) -> dict[str, Any]:
    """What runs and what it reads: each container's id, start, image and labels, and the checksums of
    the stack's files."""
    containers = {}
    for name in container_names(v).values():
        state = inspect(host, name)
        containers[name] = (
            state["Id"],
            state["State"]["StartedAt"],
            state["Config"]["Image"],
            state["Config"]["Labels"],
        )
    files = host.check_output(
        f"find /opt/{v['stack_name']} -path '*/build' -prune -o -type f ! -name deploy.lock -print0 | sort -z | xargs -0 sha256sum"
    )
    return {"containers": containers, "files": files}


def same_but_restarts(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The same images, labels and files: a container put back as it was may have a new id."""
    return after["files"] == before["files"] and {
        name: state[2:] for name, state in before["containers"].items()
    } == {name: state[2:] for name, state in after["containers"].items()}


def named(output: str, option: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(option)}(?![\w])", output) is not None


def run_with(tmp_path: Path, values: dict[str, Any]) -> str:
    extra = tmp_path / f"values-{uuid.uuid4().hex[:8]}.json"
    extra.write_text(json.dumps(values))
    result = converge("-e", f"@{extra}")
    assert result.returncode != 0, f"accepted: {sorted(values)}\n{result.stdout[-3000:]}"
    return result.stdout + result.stderr


def outcome(output: str) -> str:
    checks = output.split("PLAY [Prepare the Docker hosts.]", 1)
    if len(checks) == 1:
        return "refused in the checks"
    if "The previous container runs again, healthy" in output:
        return "reverted"
    if re.search(r"refused the new (redis\.conf|my\.cnf|nginx\.conf)|Nothing was replaced", output):
        return "config test"
    return "failed otherwise"


def test_no_wrong_value_of_any_option_hurts_the_running_stack(
    host: Any, v: dict[str, Any], tmp_path: Path
) -> None:
    started = time.monotonic()
    base_url = f"https://localhost:{v['nginx_https_port']}"
    table = cases()
    options = {(role, name) for role, options in specs().items() for name in options}
    before = stack_state(host, v)
    probe = Probe(base_url)
    probe.start()
    results: dict[tuple[str, str], str] = {}
    reverts: list[tuple[float, float]] = []
    try:
        # Together: one run per role and kind, which must stop in the first play and name every option.
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for role, kind, name, value in table:
            groups.setdefault((role, kind), {})[name] = value
        alone: list[tuple[str, Any]] = []
        for (role, kind), values in groups.items():
            output = run_with(tmp_path, values)
            assert outcome(output) == "refused in the checks", (role, kind, output[-3000:])
            for name, value in values.items():
                if named(output, name):
                    results[(name, kind)] = "refused in the checks"
                else:
                    alone.append((name, value))
            assert stack_state(host, v) == before, f"{role} {kind}: something changed"
        # Alone: the cases a group run did not name.
        for name, value in alone:
            output = run_with(tmp_path, {name: value})
            results[(name, "alone")] = outcome(output)
            assert named(output, name) or results[(name, "alone")] != "refused in the checks", (
                name,
                output[-2000:],
            )
            assert stack_state(host, v) == before, f"{name}={value!r}: something changed"
        # Late: the configuration tests and the revert.
        for label, values, expected in LATE_CASES:
            begin = time.monotonic()
            output = run_with(tmp_path, values)
            results[(label, "late")] = outcome(output)
            assert results[(label, "late")] == expected, (label, output[-3000:])
            after = stack_state(host, v)
            if expected == "reverted":
                reverts.append((begin, time.monotonic()))
                assert same_but_restarts(before, after), f"{label}: not put back as it was"
                before = after
            else:
                assert after == before, f"{label}: something changed"
    finally:
        probe.stop()
    counts = Counter(results.values())
    covered = {name for (name, kind) in results if kind in ("type", "format", "alone")} | {
        name for _label, values, _expected in LATE_CASES for name in values
    }
    drops_outside_reverts = [drop for drop in probe.drops if not any(a <= drop <= b + 15 for a, b in reverts)]
    print(
        f"\nBAD VALUES: {len(covered & {name for _role, name in options})} of"
        f" {len({name for _role, name in options})} options covered, {len(results)} cases tried: {dict(counts)};"
        f" probe: {probe.sent} GETs, {probe.failed} failed, {probe.chats} chat round trips, WebSocket drops"
        f" {len(probe.drops)} ({len(probe.drops) - len(drops_outside_reverts)} in the {len(reverts)} reverts);"
        f" {time.monotonic() - started:.0f} s"
    )
    assert probe.failed == 0, probe.failures[:10]
    assert {name for _role, name in options} <= covered
    assert counts["failed otherwise"] == 0, [
        case for case, result in results.items() if result == "failed otherwise"
    ]
    assert drops_outside_reverts == [], probe.drops

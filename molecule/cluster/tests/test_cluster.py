"""The stack spread over four Docker hosts: placement, cross-host chat, rolling upgrades, failover.

Traffic from these tests goes only to ports the hosts publish on 127.0.0.1 of this machine;
the hosts talk to each other on their own network.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import requests
import websockets
import yaml
from chatters import Chatters, Report
from scenario import SCENARIO, converge

CONFIG = yaml.safe_load((SCENARIO / "molecule.yml").read_text())["provisioner"]["inventory"]
V: dict[str, Any] = CONFIG["group_vars"]["all"]
HOSTS: dict[str, dict[str, Any]] = CONFIG["host_vars"]
STACK = V["stack_name"]
EDGE = "http://127.0.0.1:18280"
APP_HOSTS = {"app1": "ws://127.0.0.1:18301", "app2": "ws://127.0.0.1:18302"}


def on(host: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command inside one of the Docker hosts."""
    return subprocess.run(
        ["docker", "exec", HOSTS[host]["ansible_host"], *command], check=check, capture_output=True, text=True
    )


def inspect(host: str, container: str) -> dict[str, Any]:
    return json.loads(on(host, "docker", "inspect", container).stdout)[0]


def app_hostnames() -> dict[str, str]:
    """Container hostname (what /_djangostack/health reports) -> Docker host, for every app container."""
    names = {}
    for host in APP_HOSTS:
        for replica in range(1, V["django_channels_replicas"] + 1):
            names[inspect(host, f"{STACK}-app-{replica}")["Config"]["Hostname"]] = host
    return names


class LoadLoop(threading.Thread):
    """GETs through the edge, one after another, until stopped (at most `limit` requests or `seconds`)."""

    def __init__(self, path: str = "/", limit: int = 20000, seconds: float = 600) -> None:
        super().__init__(daemon=True)
        self.path, self.limit, self.deadline = path, limit, time.monotonic() + seconds
        self.stopped = threading.Event()
        self.sent = 0
        self.failures: list[str] = []
        self.resent = 0
        self.versions: Counter[str] = Counter()

    def run(self) -> None:
        session = requests.Session()
        while not self.stopped.is_set() and self.sent < self.limit and time.monotonic() < self.deadline:
            self.sent += 1
            try:
                try:
                    response = session.get(EDGE + self.path, timeout=10)
                except requests.ConnectionError as error:
                    # An idle keep-alive connection that nginx closed as it reloaded (each drain
                    # reloads it), just as the GET went out: sent again on a new connection, as
                    # browsers do (RFC 9112, 9.3.1). A failure on the new one counts.
                    if "RemoteDisconnected" not in repr(error):
                        raise
                    self.resent += 1
                    response = session.get(EDGE + self.path, timeout=10)
                if response.status_code != 200:
                    self.failures.append(f"HTTP {response.status_code}")
                self.versions[response.headers.get("X-App-Version", "?")] += 1
            except requests.RequestException as error:
                self.failures.append(repr(error))
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def roll(image: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], LoadLoop, float, Report]:
    """A converge to `image` while GETs run through the edge and 50 people chat there in 5 rooms."""
    load = LoadLoop()
    load.start()
    with Chatters(EDGE, clients=50, rooms=5) as chat:
        started = time.monotonic()
        result = converge("-e", f"django_channels_image={image}", *extra)
        elapsed = time.monotonic() - started
    load.stop()
    return result, load, elapsed, chat.report()


def assert_no_message_lost(report: Report, replaced: bool) -> None:
    assert report.lost == 0 and report.missed_live == 0, report.missing
    assert report.sent > 0
    if replaced:
        assert report.reconnects >= report.clients, "every replica was replaced: every client reconnected"
    assert set(report.close_codes) <= {"1012"}, "closed by the server as a restart, never cut"


def batch_times(output: str) -> list[float]:
    """Seconds each batch of app hosts took, from the profile_tasks timestamps of the run."""
    stamps = []
    marks = [
        m.start() for m in re.finditer(r"PLAY \[(Deploy the Django Channels app|Deploy nginx)\.\]", output)
    ]
    for mark in marks:
        elapsed = re.search(r"\)\s+(\d+):(\d+):(\d+\.\d+) \*", output[mark:])
        assert elapsed, "profile_tasks timestamps in the output"
        h, m, s = elapsed.groups()
        stamps.append(int(h) * 3600 + int(m) * 60 + float(s))
    return [round(later - earlier, 1) for earlier, later in zip(stamps, stamps[1:], strict=False)]


def served_versions(count: int = 20) -> set[str]:
    return {requests.get(f"{EDGE}/_djangostack/health", timeout=10).json()["version"] for _i in range(count)}


def test_home_page_through_the_edge_is_served_by_both_app_hosts() -> None:
    page = requests.get(f"{EDGE}/", timeout=10)
    assert page.status_code == 200 and "<h1>Chat rooms</h1>" in page.text
    hostnames = app_hostnames()
    served = Counter(
        hostnames[requests.get(f"{EDGE}/_djangostack/health", timeout=10).json()["host"]] for _i in range(40)
    )
    print(f"\nrequests per app host through the edge: {dict(served)}")
    assert set(served) == set(APP_HOSTS)


def test_static_file_is_served_by_the_edge_itself() -> None:
    stylesheet = re.search(
        r'href="(/static/chat/chat\.[0-9a-f]+\.css)"', requests.get(f"{EDGE}/", timeout=10).text
    )
    assert stylesheet
    response = requests.get(EDGE + stylesheet.group(1), timeout=10)
    assert response.status_code == 200 and "X-Served-By" not in response.headers


async def _chat_across_hosts(room: str, text: str) -> list[dict[str, Any]]:
    async with (
        websockets.connect(f"{APP_HOSTS['app1']}/ws/chat/{room}/", origin="http://localhost") as on_app1,
        websockets.connect(f"{APP_HOSTS['app2']}/ws/chat/{room}/", origin="http://localhost") as on_app2,
    ):
        await on_app1.send(json.dumps({"message": text}))
        return [json.loads(await asyncio.wait_for(client.recv(), 10)) for client in (on_app1, on_app2)]


def test_chat_message_reaches_a_client_on_the_other_app_host() -> None:
    text = f"across hosts {uuid.uuid4()}"
    received = asyncio.run(_chat_across_hosts("cluster", text))
    assert [message["message"] for message in received] == [text, text]


def test_data_ports_are_published_on_the_private_address_only() -> None:
    data_address = HOSTS["data1"]["stack_private_address"]
    for container, port in ((f"{STACK}-mysql", "3306/tcp"), (f"{STACK}-redis", "6379/tcp")):
        bindings = inspect("data1", container)["NetworkSettings"]["Ports"][port]
        assert [binding["HostIp"] for binding in bindings] == [data_address], container
        reach = f"import socket; socket.create_connection(('{data_address}', {port.split('/', maxsplit=1)[0]}), 3)"
        assert on("app1", "python3", "-c", reach, check=False).returncode == 0, f"{container} from app1"
    edge = subprocess.run(
        ["docker", "port", HOSTS["data1"]["ansible_host"]], check=False, capture_output=True, text=True
    )
    assert edge.stdout.strip() == "", "the data host publishes nothing on this machine"
    assert (
        inspect("app1", f"{STACK}-app-1")["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostIp"]
        == "10.213.77.21"
    )


def test_rolling_upgrade_under_load_fails_no_request(capsys: pytest.CaptureFixture[str]) -> None:
    result, load, elapsed, chat = roll("cluster/app:v2")
    assert result.returncode == 0, result.stdout[-4000:]
    batches = batch_times(result.stdout)
    with capsys.disabled():  # the figures, in make test's output too
        print(
            f"\nroll to v2: {load.sent} requests sent, {len(load.failures)} failed ({load.resent} sent again on a new"
            f" connection), versions seen {dict(load.versions)}, "
            f"run {elapsed:.0f} s, batches {batches} s\n{chat.summary()}"
        )
    assert load.failures == []
    assert_no_message_lost(chat, replaced=True)
    assert load.sent > 100 and {"cluster/app:v1", "cluster/app:v2"} <= set(load.versions)
    assert len(batches) == 2, "one batch per app host (serial 1)"
    assert served_versions() == {"cluster/app:v2"}
    for host in APP_HOSTS:
        assert inspect(host, f"{STACK}-app-1")["Config"]["Labels"]["io.djangostack.image"] == "cluster/app:v2"
        tags = on(
            host, "docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "cluster/app"
        ).stdout.split()
        assert {"cluster/app:v1", "cluster/app:v2"} <= set(tags), "the previous image stays for a rollback"


def test_a_failing_version_stops_the_roll_and_the_previous_one_keeps_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    subprocess.run(
        ["docker", "build", "-q", "-t", "cluster/app:broken", "-"],
        input="FROM cluster/app:v2\nUSER root\nRUN rm /opt/djangostack/lib/djangostack/health.py\nUSER 10001\n",
        text=True,
        check=True,
        capture_output=True,
    )
    for host in APP_HOSTS:
        subprocess.run(
            f"docker save cluster/app:broken | docker exec -i {HOSTS[host]['ansible_host']} docker load -q",
            shell=True,
            check=True,
            capture_output=True,
        )
    result, load, _elapsed, chat = roll("cluster/app:broken", "-e", "stack_healthy_timeout=25")
    with capsys.disabled():  # the figures, in make test's output too
        print(
            f"\nroll to a broken version: {load.sent} requests sent, {len(load.failures)} failed\n{chat.summary()}"
        )
    assert_no_message_lost(chat, replaced=False)
    assert result.returncode != 0
    assert "(cluster/app:broken) did not become healthy" in result.stdout
    assert "The previous container runs again, healthy: cluster/app:v2" in result.stdout
    assert load.failures == []
    for host in APP_HOSTS:  # app1 put its replica back, app2 was never touched
        for replica in (1, 2):
            labels = inspect(host, f"{STACK}-app-{replica}")["Config"]["Labels"]
            assert labels["io.djangostack.image"] == "cluster/app:v2", (host, replica)
    assert served_versions() == {"cluster/app:v2"}


def test_rollback_to_the_previous_image_is_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    result, load, elapsed, chat = roll("cluster/app:v1")
    assert result.returncode == 0, result.stdout[-4000:]
    with capsys.disabled():  # the figures, in make test's output too
        print(
            f"\nrollback to v1: {load.sent} requests sent, {len(load.failures)} failed, run {elapsed:.0f} s\n{chat.summary()}"
        )
    assert load.failures == []
    assert_no_message_lost(chat, replaced=True)
    assert served_versions() == {"cluster/app:v1"}


def test_gets_still_succeed_when_an_app_host_stops() -> None:
    replicas = [f"{STACK}-app-{replica}" for replica in range(1, V["django_channels_replicas"] + 1)]
    on("app1", "docker", "stop", *replicas)
    try:
        hostnames = app_hostnames()
        load = LoadLoop(path="/_djangostack/health", limit=200, seconds=60)
        load.run()
        print(f"\nfailover: {load.sent} requests sent with app1 stopped, {len(load.failures)} failed")
        assert load.failures == []
        served = {
            hostnames[requests.get(f"{EDGE}/_djangostack/health", timeout=10).json()["host"]]
            for _i in range(20)
        }
        assert served == {"app2"}
    finally:
        on("app1", "docker", "start", *replicas)

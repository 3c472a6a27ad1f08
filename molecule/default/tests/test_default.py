"""The deployed stack, seen from outside like a browser and from the host like an operator."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import uuid
from typing import Any

import pytest
import requests
import urllib3
import websockets
from scenario import converge

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # self-signed test certificate

testinfra_hosts = ["stack-host"]


@pytest.fixture(scope="module")
def v(host: Any) -> dict[str, Any]:
    """The scenario's inventory variables: every expectation below derives from them."""
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def names(v: dict[str, Any]) -> dict[str, str]:
    stack = v["stack_name"]
    return {
        "mysql": f"{stack}-mysql",
        "redis": f"{stack}-redis",
        "nginx": f"{stack}-nginx",
        **{f"app-{i}": f"{stack}-app-{i}" for i in range(1, v["django_channels_replicas"] + 1)},
    }


@pytest.fixture(scope="module")
def base_url(v: dict[str, Any]) -> str:
    return f"https://localhost:{v['nginx_https_port']}"


def inspect(host: Any, name: str) -> dict[str, Any]:
    return json.loads(host.check_output(f"docker inspect {name}"))[0]


def mysql_query(
    host: Any, v: dict[str, Any], names: dict[str, str], sql: str, password: str | None = None
) -> Any:
    password = v["stack_db_password"] if password is None else password
    return host.run(
        f"docker exec -e MYSQL_PWD={password} {names['mysql']} "
        f'mariadb --protocol=TCP -h 127.0.0.1 -u {v["stack_db_user"]} -D {v["stack_db_name"]} -N -B -e "{sql}"'
    )


def test_every_container_runs_healthy_with_a_restart_policy(host: Any, names: dict[str, str]) -> None:
    for name in names.values():
        state = inspect(host, name)
        assert state["State"]["Running"], name
        assert state["State"]["Health"]["Status"] == "healthy", name
        assert state["HostConfig"]["RestartPolicy"]["Name"] in {"always", "unless-stopped", "on-failure"}, (
            name
        )
        assert state["HostConfig"]["LogConfig"]["Type"] == "json-file", name
        assert state["Config"]["Labels"]["io.djangostack.managed-by"].startswith("ansible"), name


def test_only_nginx_publishes_host_ports(host: Any, v: dict[str, Any], names: dict[str, str]) -> None:
    stack_containers = host.check_output(
        f"docker ps -q --filter label=io.djangostack.stack={v['stack_name']}"
    ).split()
    assert len(stack_containers) == len(names)
    for container in stack_containers:
        state = inspect(host, container)
        published = {
            port: bindings for port, bindings in state["NetworkSettings"]["Ports"].items() if bindings
        }
        if state["Name"] == "/" + names["nginx"]:
            assert set(published) == {"80/tcp", "443/tcp"}
        else:
            assert not published, state["Name"]


def test_rendered_configs_carry_the_scenario_values(
    host: Any, v: dict[str, Any], names: dict[str, str]
) -> None:
    base = f"/opt/{v['stack_name']}"
    my_cnf = host.file(f"{base}/mysql/conf.d/djangostack.cnf")
    assert f"max_connections = {v['mysql_max_connections']}" in my_cnf.content_string
    assert mysql_query(host, v, names, "SELECT @@max_connections").stdout.strip() == str(
        v["mysql_max_connections"]
    )
    assert mysql_query(host, v, names, "SELECT @@character_set_server").stdout.strip() == "utf8mb4"

    redis_conf = host.file(f"{base}/redis/conf/redis.conf")
    assert f"maxmemory {v['redis_maxmemory']}" in redis_conf.content_string
    assert "appendonly yes" in redis_conf.content_string
    maxmemory = host.check_output(
        f"docker exec -e REDISCLI_AUTH={v['stack_redis_password']} {names['redis']} redis-cli config get maxmemory"
    ).split()[-1]
    assert int(maxmemory) == 48 * 1024 * 1024

    site = host.file(f"{base}/nginx/conf/sites/djangostack.conf").content_string
    assert f"server_name {' '.join(v['stack_server_names'])};" in site
    for i in range(1, v["django_channels_replicas"] + 1):
        assert f"server {v['stack_name']}-app-{i}:8000" in site
    assert (
        "map $http_upgrade $connection_upgrade" in host.file(f"{base}/nginx/conf/nginx.conf").content_string
    )


def test_files_holding_secrets_are_private(host: Any, v: dict[str, Any]) -> None:
    base = f"/opt/{v['stack_name']}"
    for path, mode in {
        f"{base}/app/app.env": 0o600,
        f"{base}/mysql/secrets/root_password": 0o600,
        f"{base}/redis/conf/redis.conf": 0o640,
        f"{base}/redis/conf/password": 0o600,
        f"{base}/nginx/tls/tls.key": 0o600,
    }.items():
        assert host.file(path).mode == mode, path


def test_http_redirects_to_https(v: dict[str, Any]) -> None:
    response = requests.get(f"http://localhost:{v['nginx_http_port']}/", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://localhost:{v['nginx_https_port']}/"


def test_home_page_is_served_by_django_through_nginx(base_url: str) -> None:
    response = requests.get(f"{base_url}/", verify=False, timeout=10)
    assert response.status_code == 200
    assert "<h1>Chat rooms</h1>" in response.text
    assert response.headers["Server"] == "nginx"
    assert "X-Served-By" in response.headers  # Django's middleware answered
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_static_file_is_served_by_nginx_itself(base_url: str) -> None:
    page = requests.get(f"{base_url}/", verify=False, timeout=10).text
    stylesheet = re.search(r'href="(/static/chat/chat\.[0-9a-f]+\.css)"', page)
    assert stylesheet, "the page links a hashed stylesheet"
    response = requests.get(base_url + stylesheet.group(1), verify=False, timeout=10)
    assert response.status_code == 200
    assert "#chat-log" in response.text
    assert "X-Served-By" not in response.headers  # nginx answered, not Django
    assert "max-age=" in response.headers["Cache-Control"]


def test_healthz_is_ok_through_nginx(base_url: str) -> None:
    response = requests.get(f"{base_url}/healthz", verify=False, timeout=10)
    assert response.status_code == 200
    health = response.json()
    assert (health["status"], health["database"], health["channel_layer"]) == ("ok", "ok", "ok")
    assert health["version"].startswith("molecule-default/app:")  # the image the role deployed
    assert response.headers["X-App-Version"] == health["version"]


async def _chat(base_url: str, room: str, text: str) -> list[dict[str, Any]]:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    url = base_url.replace("https://", "wss://") + f"/ws/chat/{room}/"
    async with (
        websockets.connect(url, ssl=tls, origin=base_url) as first,
        websockets.connect(url, ssl=tls, origin=base_url) as second,
    ):
        await first.send(json.dumps({"message": text}))
        return [json.loads(await asyncio.wait_for(client.recv(), 10)) for client in (first, second)]


def test_chat_message_reaches_every_client_in_room_and_is_stored(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str
) -> None:
    room, text = "molecule", f"hello {uuid.uuid4()}"
    received = asyncio.run(_chat(base_url, room, text))
    assert [message["message"] for message in received] == [text, text]

    rows = mysql_query(
        host,
        v,
        names,
        f"SELECT r.name, m.text FROM chat_message m JOIN chat_room r ON r.id = m.room_id WHERE m.text = '{text}'",
    )
    assert rows.rc == 0, rows.stderr
    assert rows.stdout.strip() == f"{room}\t{text}"
    assert text in requests.get(f"{base_url}/chat/{room}/", verify=False, timeout=10).text


def test_websocket_from_a_foreign_origin_is_refused(base_url: str) -> None:
    async def connect() -> None:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        url = base_url.replace("https://", "wss://") + "/ws/chat/molecule/"
        async with websockets.connect(url, ssl=tls, origin="https://evil.example"):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus):
        asyncio.run(connect())


def test_redis_refuses_commands_without_the_password(
    host: Any, v: dict[str, Any], names: dict[str, str]
) -> None:
    answer = host.run(f"docker exec {names['redis']} redis-cli set stolen 1")
    assert "NOAUTH" in answer.stdout + answer.stderr
    authed = host.check_output(
        f"docker exec -e REDISCLI_AUTH={v['stack_redis_password']} {names['redis']} redis-cli ping"
    )
    assert authed.strip() == "PONG"


def test_mysql_refuses_the_app_user_with_a_wrong_password(
    host: Any, v: dict[str, Any], names: dict[str, str]
) -> None:
    refused = mysql_query(host, v, names, "SELECT 1", password="not-the-password")
    assert refused.rc != 0
    assert "Access denied" in refused.stderr
    assert mysql_query(host, v, names, "SELECT 1").stdout.strip() == "1"


def test_a_password_change_converges_and_no_secret_reaches_verbose_output(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str
) -> None:
    """Last, as it changes the stack: a new app password reaches MySQL and the app, and a -vvv
    run that updates the user, rewrites the env file and replaces the app containers prints no secret."""
    new_password = f"molecule-rotated-{uuid.uuid4().hex[:12]}"
    result = converge("-vvv", "-e", f"stack_db_password={new_password}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"changed=[1-9]", result.stdout), "the run changed the user, env file and containers"
    secrets = {
        name: v[name]
        for name in (
            "mysql_root_password",
            "stack_db_password",
            "stack_redis_password",
            "django_channels_secret_key",
        )
    } | {"new stack_db_password": new_password}
    leaked = [name for name, secret in secrets.items() if secret in output]
    assert leaked == [], f"in the -vvv output: {leaked}"
    assert mysql_query(host, v, names, "SELECT 1", password=new_password).stdout.strip() == "1"
    assert mysql_query(host, v, names, "SELECT 1").rc != 0  # the old password no longer works
    assert requests.get(f"{base_url}/healthz", verify=False, timeout=10).json()["database"] == "ok"

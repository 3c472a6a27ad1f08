"""The deployed stack, seen from outside like a browser and from the host like an operator."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import urllib3
import websockets
from chatters import Chatters
from scenario import converge
from stack import chat, container_names, insecure_tls, inspect, mysql_query, redis_cli

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # self-signed test certificate

testinfra_hosts = ["stack-host"]


@pytest.fixture(scope="module")
def v(host: Any) -> dict[str, Any]:
    """The scenario's inventory variables: every expectation below derives from them."""
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def names(v: dict[str, Any]) -> dict[str, str]:
    return container_names(v)


@pytest.fixture(scope="module")
def base_url(v: dict[str, Any]) -> str:
    return f"https://localhost:{v['nginx_https_port']}"


@pytest.fixture(scope="module")
def stylesheet(base_url: str) -> str:
    """The path of the hashed stylesheet the home page links."""
    page = requests.get(f"{base_url}/", verify=False, timeout=10).text
    link = re.search(r'href="(/static/chat/chat\.[0-9a-f]+\.css)"', page)
    assert link, "the page links a hashed stylesheet"
    return link.group(1)


def statuses_on_one_connection(urls: list[str]) -> list[int]:
    """The status of a GET of each URL, in order, on one kept-alive connection (no TLS handshake each)."""
    with requests.Session() as session:
        return [session.get(url, verify=False, timeout=10).status_code for url in urls]


def test_every_container_runs_healthy_with_a_restart_policy(host: Any, names: dict[str, str]) -> None:
    for name in names.values():
        state = inspect(host, name)
        assert state["State"]["Running"], name
        assert state["State"]["Health"]["Status"] == "healthy", name
        assert state["HostConfig"]["RestartPolicy"]["Name"] == "always", name
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
    my_cnf = host.file(f"{base}/mysql/my.cnf")
    assert f"max_connections = {v['mysql_max_connections']}" in my_cnf.content_string
    assert mysql_query(host, v, names, "SELECT @@max_connections").stdout.strip() == str(
        v["mysql_max_connections"]
    )
    assert mysql_query(host, v, names, "SELECT @@character_set_server").stdout.strip() == "utf8mb4"

    redis_conf = host.file(f"{base}/redis/redis.conf")
    assert f"maxmemory {v['redis_maxmemory']}" in redis_conf.content_string
    assert "appendonly yes" in redis_conf.content_string
    memory = dict(
        line.split(":", 1) for line in redis_cli(host, v, names, "info memory").stdout.split() if ":" in line
    )
    assert int(memory["maxmemory"]) == 48 * 1024 * 1024

    nginx_conf = host.file(f"{base}/nginx/conf/nginx.conf").content_string
    assert f"server_name {' '.join(v['stack_server_names'])};" in nginx_conf
    for i in range(1, v["django_channels_replicas"] + 1):
        assert f"server {v['stack_name']}-app-{i}:8000" in nginx_conf
    assert "map $http_upgrade $connection_upgrade" in nginx_conf
    # No secret in the settings files, so that --diff shows their changes.
    for path in (f"{base}/mysql/my.cnf", f"{base}/redis/redis.conf", f"{base}/app/app.env"):
        content = host.file(path).content_string
        for name in (
            "mysql_root_password",
            "stack_db_password",
            "stack_redis_password",
            "django_channels_secret_key",
        ):
            assert v[name] not in content, (path, name)


def test_files_holding_secrets_are_private(host: Any, v: dict[str, Any]) -> None:
    base = f"/opt/{v['stack_name']}"
    for path, mode in {
        f"{base}/app/secrets/secrets.json": 0o600,
        f"{base}/app/secrets": 0o700,
        f"{base}/mysql/secrets/root_password": 0o600,
        f"{base}/mysql/secrets": 0o700,
        f"{base}/redis/secrets/users.acl": 0o600,
        f"{base}/redis/secrets": 0o700,
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


def test_static_file_is_served_by_nginx_itself(base_url: str, stylesheet: str) -> None:
    response = requests.get(base_url + stylesheet, verify=False, timeout=10)
    assert response.status_code == 200
    assert "#chat-log" in response.text
    assert "X-Served-By" not in response.headers  # nginx answered, not Django
    assert "max-age=" in response.headers["Cache-Control"]


def test_access_log_has_one_whole_line_per_request(
    host: Any, base_url: str, names: dict[str, str], stylesheet: str
) -> None:
    """nginx buffers its access log (nginx_access_log_buffer): every request still gets its own
    line, whole, within the flush time, while both workers write at once."""
    probe, since = uuid.uuid4().hex, int(time.time()) - 1
    batches = [
        [f"{base_url}{stylesheet}?probe={probe}-{batch * 30 + n}" for n in range(30)] for batch in range(10)
    ]
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert {code for codes in pool.map(statuses_on_one_connection, batches) for code in codes} == {200}
    time.sleep(3)  # the flush time (1 s) and Docker's copy of the output
    lines = [
        line
        for line in host.check_output(
            f"docker logs --since {since} {names['nginx']} 2>/dev/null"
        ).splitlines()
        if probe in line
    ]
    combined = re.compile(
        rf'^\S+ - \S+ \[[^\]]+\] "GET {re.escape(stylesheet)}\?probe={probe}-(\d+) HTTP/1\.1" 200 \d+ "[^"]*" "[^"]*"$'
    )
    numbers = [int(match.group(1)) for match in map(combined.match, lines) if match]
    assert len(numbers) == len(lines), [line for line in lines if not combined.match(line)][:5]
    assert sorted(numbers) == list(range(300))


def test_health_endpoint_is_ok_through_nginx(base_url: str) -> None:
    response = requests.get(f"{base_url}/_djangostack/health", verify=False, timeout=10)
    assert response.status_code == 200
    health = response.json()
    assert (health["status"], health["database"], health["channel_layer"]) == ("ok", "ok", "ok")
    assert health["version"].startswith("molecule-default/app:")  # the image the role deployed
    assert response.headers["X-App-Version"] == health["version"]


def test_health_endpoint_stays_ok_while_websocket_clients_wait_for_messages(base_url: str) -> None:
    """Idle consumers block on the channel layer (a 5 s BZPOPMIN): the health check's round trip
    must not wait behind them, or every replica with a reader connected turns unhealthy."""

    async def probe() -> list[int]:
        url = base_url.replace("https", "wss", 1)
        sockets = [
            await websockets.connect(f"{url}/ws/chat/idle-{i}/", ssl=insecure_tls(), origin=base_url)
            for i in range(6)
        ]
        try:
            statuses = []
            for _i in range(8):
                response = await asyncio.to_thread(
                    requests.get, f"{base_url}/_djangostack/health", verify=False, timeout=10
                )
                statuses.append(response.status_code)
                await asyncio.sleep(1)
            return statuses
        finally:
            for socket in sockets:
                await socket.close()

    assert asyncio.run(probe()) == [200] * 8


def test_chat_message_reaches_every_client_in_room_and_is_stored(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str
) -> None:
    room, text = "molecule", f"hello {uuid.uuid4()}"
    assert chat(base_url, room, [text]) == [[text], [text]]

    rows = mysql_query(
        host,
        v,
        names,
        f"SELECT r.name, m.text FROM chat_message m JOIN chat_room r ON r.id = m.room_id WHERE m.text = '{text}'",
    )
    assert rows.rc == 0, rows.stderr
    assert rows.stdout.strip() == f"{room}\t{text}"
    assert text in requests.get(f"{base_url}/chat/{room}/", verify=False, timeout=10).text


def test_a_message_sent_again_is_stored_once_and_the_rooms_numbers_have_no_gap(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str
) -> None:
    # MySQL stores a message in one round trip of several statements (the SQLite tests take the
    # ORM's way): a nonce sent again must roll its number back, and come back as first stored.
    room, nonce = f"resent-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    url = base_url.replace("https", "wss", 1) + f"/ws/chat/{room}/"

    async def talk() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sockets = [await websockets.connect(url, ssl=insecure_tls(), origin=base_url) for _i in range(2)]
        try:

            async def send(socket: Any, content: dict[str, str]) -> dict[str, Any]:
                await socket.send(json.dumps(content))
                return json.loads(await asyncio.wait_for(socket.recv(), 10))

            once = {"message": "once", "nonce": nonce, "name": "Ada"}
            first = [await send(sockets[0], once), json.loads(await asyncio.wait_for(sockets[1].recv(), 10))]
            again = [await send(sockets[1], once), json.loads(await asyncio.wait_for(sockets[0].recv(), 10))]
            plain = [await send(sockets[0], {"message": f"plain {n}"}) for n in range(3)]
            return first + again, plain
        finally:
            for socket in sockets:
                await socket.close()

    stored, plain = asyncio.run(talk())
    assert stored[0]["nonce"] == nonce and stored[0]["name"] == "Ada" and stored == [stored[0]] * 4
    assert [event["seq"] for event in [stored[0], *plain]] == [1, 2, 3, 4]
    rows = mysql_query(
        host,
        v,
        names,
        "SELECT m.seq, m.text, COALESCE(m.nonce, '') FROM chat_message m JOIN chat_room r ON r.id = m.room_id"
        f" WHERE r.name = '{room}' ORDER BY m.seq",
    )
    assert rows.rc == 0, rows.stderr
    assert rows.stdout.splitlines() == [
        f"1\tonce\t{nonce}",
        "2\tplain 0\t",
        "3\tplain 1\t",
        "4\tplain 2\t",
    ]


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


# --- Hardening -----------------------------------------------------------------------------

# Capabilities each service keeps (the stack drops every other one).
KEPT_CAPABILITIES = {"nginx": {"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"}}


def _health_check_processes(test: list[str]) -> set[str]:
    """The command lines that Docker's run of the health check `test` shows in `docker top`."""
    if test[0] == "CMD-SHELL":
        return {test[1], f"/bin/sh -c {test[1]}"}
    return {" ".join(test[1:])}


def test_containers_are_hardened(host: Any, names: dict[str, str]) -> None:
    for role, name in names.items():
        config = inspect(host, name)
        hc = config["HostConfig"]
        assert hc["Privileged"] is False, name
        assert hc["CapDrop"] == ["ALL"], name
        assert set(hc["CapAdd"] or []) == KEPT_CAPABILITIES.get(role, set()), name
        assert "no-new-privileges:true" in hc["SecurityOpt"], name
        assert hc["ReadonlyRootfs"] is True, name
        assert hc["Memory"] > 0, name
        assert hc["LogConfig"]["Config"]["max-size"] and hc["LogConfig"]["Config"]["max-file"], name
        # Every process runs as a non-root user, but nginx's master (its workers do not). Docker runs
        # the health check as the container's user, and it may be running at this moment: it is left out.
        health_check = _health_check_processes(config["Config"]["Healthcheck"]["Test"])
        processes = [
            line.split(None, 2)[1:]
            for line in host.check_output(f"docker top {name} -o pid,uid,args").splitlines()[1:]
        ]
        processes = [(uid, args) for uid, args in processes if args not in health_check]
        root = [args for uid, args in processes if uid == "0"]
        if role == "nginx":
            assert root and all(args.startswith("nginx: master") for args in root), processes
            assert any(args.startswith("nginx: worker") and uid != "0" for uid, args in processes), processes
        else:
            assert processes and not root, (name, processes)
        # A write outside the tmpfs mounts and volumes is refused.
        refused = host.run(f"docker exec {name} sh -c 'touch /usr/hardening-probe'")
        assert refused.rc != 0 and "Read-only file system" in refused.stderr, name


def test_the_app_passes_djangos_deploy_checks(host: Any, names: dict[str, str]) -> None:
    result = host.run(f"docker exec {names['app-1']} python manage.py check --deploy --fail-level WARNING")
    assert result.rc == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_gixy_finds_no_issue_in_the_rendered_nginx_config(
    host: Any, names: dict[str, str], tmp_path: Any
) -> None:
    dump = host.check_output(f"docker exec {names['nginx']} nginx -T -c /etc/nginx/djangostack/nginx.conf")
    assert "limit_req_zone" in dump and "ssl_ciphers" in dump  # the full, included configuration
    config = tmp_path / "nginx-T.conf"
    config.write_text(dump)
    result = host.run(f"{sys.executable} -m gixy -f json {config}")
    assert result.rc == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [], result.stdout


def _tls_handshake(port: int, ciphers: str) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.cipher()[0]


def test_tls_offers_only_forward_secret_aead_ciphers(v: dict[str, Any]) -> None:
    port = v["nginx_https_port"]
    # Whatever the certificate's key type (the self-signed one is ECDSA), an allowed suite is negotiated ...
    allowed = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
    assert _tls_handshake(port, allowed) in allowed.split(":")
    # ... and the CBC (non-AEAD) suites of the same key exchange, which OpenSSL itself still offers, are not.
    for weak in (
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384",
        "ECDHE-RSA-AES128-SHA",
        "ECDHE-RSA-AES256-SHA384",
    ):
        with pytest.raises(ssl.SSLError):
            _tls_handshake(port, weak + ":@SECLEVEL=0")


def test_security_headers_and_no_version_disclosure(base_url: str) -> None:
    response = requests.get(f"{base_url}/", verify=False, timeout=10)
    assert response.headers["Server"] == "nginx"
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    missing = requests.get(f"{base_url}/no-such-page", verify=False, timeout=10)
    assert missing.status_code == 404 and "1.2" not in missing.text  # no version on error pages


def test_oversized_request_bodies_are_refused(base_url: str) -> None:
    body = b"x" * (11 * 1024 * 1024)  # above nginx_client_max_body_size (10m)
    response = requests.post(f"{base_url}/", data=body, verify=False, timeout=30)
    assert response.status_code == 413


def test_mysql_app_user_is_confined_and_root_is_local_only(
    host: Any, v: dict[str, Any], names: dict[str, str]
) -> None:
    grants = mysql_query(host, v, names, "SHOW GRANTS").stdout.strip().splitlines()
    assert grants, "the app user has grants"
    for grant in grants:
        assert grant.startswith("GRANT USAGE ON *.*") or f"ON `{v['stack_db_name']}`.*" in grant, grant
    root_hosts = host.check_output(
        f"docker exec -e MYSQL_PWD={v['mysql_root_password']} {names['mysql']} "
        "mariadb -uroot -N -B -e \"SELECT host FROM mysql.user WHERE user = 'root'\""
    )
    assert root_hosts.split() == ["localhost"]
    # root from another container on the stack network is refused even with the right password.
    remote = host.run(
        f"docker run --rm --network {v['stack_name']} -e MYSQL_PWD={v['mysql_root_password']} {v['mysql_image']} "
        f"mariadb -h {names['mysql']} -uroot -e 'SELECT 1'"
    )
    assert remote.rc != 0 and ("Access denied" in remote.stderr or "not allowed" in remote.stderr), (
        remote.stderr
    )


def test_redis_dangerous_commands_are_disabled(host: Any, v: dict[str, Any], names: dict[str, str]) -> None:
    for command in ("FLUSHALL", "FLUSHDB", "CONFIG GET maxmemory", "DEBUG SLEEP 0", "SHUTDOWN", "MONITOR"):
        answer = redis_cli(host, v, names, command)
        assert "unknown command" in answer.stdout + answer.stderr, command
    assert redis_cli(host, v, names, "PING").stdout.strip() == "PONG"


def test_rate_limits_answer_429_to_a_flood(base_url: str) -> None:
    def flood(path: str, count: int) -> list[int]:
        return statuses_on_one_connection([f"{base_url}{path}"] * count)

    assert flood("/", 1) == [200]
    # 10 connections at a time, so that the flood outruns the limits (20 requests/s with a burst of
    # 150; 5 handshakes/s with a burst of 100: molecule.yml) on a loaded machine too: on one
    # connection, 120 requests of 27 ms each made only a few 429s, and none at 30 ms.
    with ThreadPoolExecutor(max_workers=10) as pool:
        app = [code for codes in pool.map(flood, ["/"] * 10, [25] * 10) for code in codes]
        handshakes = [
            code for codes in pool.map(flood, ["/ws/chat/flood/"] * 10, [16] * 10) for code in codes
        ]
    assert 429 in app, app
    assert 429 in handshakes, handshakes
    static = requests.get(f"{base_url}/nginx-health", verify=False, timeout=10)
    assert static.status_code == 200
    time.sleep(20)  # let the buckets drain for the tests after this one
    assert requests.get(f"{base_url}/", verify=False, timeout=10).status_code == 200


def test_people_chatting_through_a_roll_lose_no_message(
    base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A routine change rolls the replicas while 50 people chat in 5 rooms: each replica leaves
    nginx's upstream, closes its sockets with 1012, and every client reconnects, catches up and
    sends what it never saw come back; afterwards each client has seen every message of its room."""
    with Chatters(base_url, clients=50, rooms=5) as chat:
        result = converge("-e", json.dumps({"django_channels_env": {"ROLL_MARK": uuid.uuid4().hex}}))
    assert result.returncode == 0, result.stdout[-3000:]
    report = chat.report()
    with capsys.disabled():  # the figures, in make test's output too
        print(f"\nroll on one host: {report.summary()}")
    assert report.lost == 0 and report.missed_live == 0, report.missing
    assert report.reconnects >= report.clients, "every replica was replaced: every client reconnected"
    assert set(report.close_codes) == {"1012"}, "closed by the server as a restart, never cut"
    assert report.sent > 0


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
    assert (
        requests.get(f"{base_url}/_djangostack/health", verify=False, timeout=10).json()["database"] == "ok"
    )

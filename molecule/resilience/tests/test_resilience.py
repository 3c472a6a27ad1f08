"""Nothing is lost: data written first is read back after every change and fault.

The module's tests run in order against one stack. The first writes chat messages through nginx
(rows in MySQL) and keys in Redis (kept by its AOF); each later test injects a change or a fault,
checks the stack serves again, and compares the data with what was written. Each prints a line
with the figures (rows and keys before and after, time to recover).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from scenario import PROJECT, converge, playbook
from stack import chat, container_names, inspect, mysql_query, redis_cli, wait_until_healthy

testinfra_hosts = ["stack-host"]

ROOM = f"resilience-{uuid.uuid4().hex[:8]}"  # its own room: a re-run of the tests starts from 0 rows
KEYS = [f"resilience:key:{i}" for i in range(50)]


@pytest.fixture(scope="module")
def v(host: Any) -> dict[str, Any]:
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def names(v: dict[str, Any]) -> dict[str, str]:
    return container_names(v)


@pytest.fixture(scope="module")
def base_url(v: dict[str, Any]) -> str:
    return f"http://localhost:{v['nginx_http_port']}"


def snapshot(
    host: Any,
    v: dict[str, Any],
    names: dict[str, str],
    password: str | None = None,
    redis_password: str | None = None,
) -> dict[str, Any]:
    """The seeded data as the servers return it: rows and their checksum, keys and theirs."""
    rows = mysql_query(
        host,
        v,
        names,
        "SELECT COUNT(*), COALESCE(MD5(GROUP_CONCAT(m.text ORDER BY m.id SEPARATOR '|')), '') "
        f"FROM chat_message m JOIN chat_room r ON r.id = m.room_id WHERE r.name = '{ROOM}'",
        password=password,
    )
    assert rows.rc == 0, rows.stderr
    count, digest = rows.stdout.split("\t") if "\t" in rows.stdout else (rows.stdout, "")
    values = redis_cli(host, v, names, "MGET " + " ".join(KEYS), password=redis_password).stdout.split("\n")[
        : len(KEYS)
    ]
    present = [value for value in values if value]
    return {
        "rows": int(count),
        "rows_md5": digest.strip(),
        "keys": len(present),
        "keys_sha": hashlib.sha256("|".join(values).encode()).hexdigest(),
    }


def report(fault: str, before: dict[str, Any], after: dict[str, Any], **figures: Any) -> None:
    extra = "".join(f", {name} {value}" for name, value in figures.items())
    print(
        f"\nRESILIENCE {fault}: rows {before['rows']} -> {after['rows']}, "
        f"redis keys {before['keys']} -> {after['keys']}{extra}"
    )


def serves(base_url: str, within: float = 30) -> float:
    """The stack serves a page and a chat round trip again (in a room other than the seeded one),
    within `within` seconds; returns how long it took."""
    start = time.monotonic()
    while True:
        try:
            assert requests.get(f"{base_url}/", timeout=10).status_code == 200
            text = f"alive {uuid.uuid4().hex[:8]}"
            assert chat(base_url, "liveness", [text]) == [[text], [text]]
            return round(time.monotonic() - start, 1)
        except Exception:
            if time.monotonic() - start > within:
                raise
            time.sleep(0.5)


def changed(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return sum(int(n) for n in re.findall(r"changed=(\d+)", result.stdout))


def started_at(host: Any, names: dict[str, str]) -> dict[str, str]:
    return {role: inspect(host, name)["State"]["StartedAt"] for role, name in names.items()}


@pytest.fixture(scope="module")
def seeded(host: Any, v: dict[str, Any], names: dict[str, str], base_url: str) -> dict[str, Any]:
    texts = [f"seed {i} {uuid.uuid4().hex[:8]}" for i in range(25)]
    assert chat(base_url, ROOM, texts) == [texts, texts]
    pairs = " ".join(f"{key} value-{i}-{uuid.uuid4().hex[:6]}" for i, key in enumerate(KEYS))
    assert redis_cli(host, v, names, f"MSET {pairs}").stdout.strip() == "OK"
    time.sleep(2)  # appendfsync everysec: the AOF holds every key after a second
    data = snapshot(host, v, names)
    assert (data["rows"], data["keys"]) == (25, 50)
    return data


def test_seeded_data_is_in_mysql_and_redis(seeded: dict[str, Any]) -> None:
    print(f"\nRESILIENCE seeded: {seeded['rows']} chat rows in MySQL, {seeded['keys']} keys in Redis")


def test_a_rerun_changes_nothing_and_keeps_the_data(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    assert changed(converge()) == 0
    after = snapshot(host, v, names)
    report("re-run of site.yml", seeded, after)
    assert after == seeded
    serves(base_url)


def test_config_changes_restart_the_services_and_keep_the_data(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    before = started_at(host, names)
    overrides = {
        "mysql_max_connections": 99,
        "redis_maxmemory": "40mb",
        "nginx_client_max_body_size": "2m",
        "django_channels_env": {"RESILIENCE_TEST": "1"},
    }
    assert changed(converge("-e", json.dumps(overrides))) > 0
    after_start = started_at(host, names)
    restarted = [role for role in ("mysql", "redis", "app-1", "app-2") if after_start[role] != before[role]]
    assert restarted == ["mysql", "redis", "app-1", "app-2"]
    assert mysql_query(host, v, names, "SELECT @@max_connections").stdout.strip() == "99"
    assert "maxmemory:41943040" in redis_cli(host, v, names, "INFO memory").stdout
    oversized = requests.post(f"{base_url}/", data=b"x" * 3 * 1024 * 1024, timeout=30)
    assert oversized.status_code == 413  # nginx reloaded with the new limit
    after = snapshot(host, v, names)
    report("config change (my.cnf, redis.conf, nginx, app env)", seeded, after, restarted=restarted)
    assert after == seeded
    serves(base_url)
    assert changed(converge()) > 0  # back to the scenario's settings
    assert snapshot(host, v, names) == seeded


def test_an_app_password_change_keeps_the_data(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    new_password = f"resilience-rotated-{uuid.uuid4().hex[:12]}"
    assert changed(converge("-e", f"stack_db_password={new_password}")) > 0
    after = snapshot(host, v, names, password=new_password)
    report("MySQL app password change", seeded, after)
    assert after == seeded
    serves(base_url)
    assert changed(converge()) > 0  # and back
    assert snapshot(host, v, names) == seeded


def test_a_checkout_with_other_secrets_stops_before_anything_changes(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    """A second checkout's `make deploy` on the same host: new random secrets, the old MySQL volume.
    Its root password cannot update the app user, so it stops in the first play: Redis and the app
    keep the passwords they share, and the stack serves."""
    before = started_at(host, names)
    others = {
        name: f"other-checkout-{uuid.uuid4().hex}"
        for name in ("mysql_root_password", "stack_db_password", "stack_redis_password")
    }
    result = converge("-e", json.dumps(others))
    assert result.returncode != 0
    assert "Check every host's settings before anything changes" in result.stdout
    assert "PLAY [Prepare the Docker hosts.]" not in result.stdout
    assert "root does not log in with mysql_root_password" in result.stdout, result.stdout[-3000:]
    assert started_at(host, names) == before
    assert redis_auth(host, names, v["stack_redis_password"]) == "PONG"
    serves(base_url)
    after = snapshot(host, v, names)
    report("a second checkout's secrets", seeded, after)
    assert after == seeded


def redis_auth(host: Any, names: dict[str, str], password: str) -> str:
    """What Redis answers to a PING with this password."""
    return host.run(f"docker exec -e REDISCLI_AUTH={password} {names['redis']} redis-cli ping").stdout.strip()


def test_a_run_that_stops_between_two_services_sharing_a_secret_leaves_the_stack_serving(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    """New database and Redis passwords, and a run that stops after MySQL and Redis have them but
    before the app does (its check fails): both keep the old ones too, so the app, still on them,
    serves. A good run then gives the app the new ones and drops the old ones."""
    old_db, old_redis = v["stack_db_password"], v["stack_redis_password"]
    new = {
        "stack_db_password": f"resilience-db-{uuid.uuid4().hex[:12]}",
        "stack_redis_password": f"resilience-redis-{uuid.uuid4().hex[:12]}",
    }
    failed = converge("-e", json.dumps({**new, "django_channels_check_command": "false"}))
    assert failed.returncode != 0
    assert "Nothing was replaced" in failed.stdout, failed.stdout[-3000:]
    assert "PLAY [Deploy nginx.]" not in failed.stdout  # it stopped at the app
    seconds = serves(base_url, within=5)
    for password in (old_db, new["stack_db_password"]):
        assert mysql_query(host, v, names, "SELECT 1", password=password).stdout.strip() == "1", (
            "both accepted"
        )
    assert (
        redis_auth(host, names, old_redis) == redis_auth(host, names, new["stack_redis_password"]) == "PONG"
    )
    after_failure = snapshot(host, v, names)
    report(
        "run stopped between the data stores and the app (new passwords)",
        seeded,
        after_failure,
        serves_in_s=seconds,
    )
    assert after_failure == seeded

    assert changed(converge("-e", json.dumps(new))) > 0
    assert mysql_query(host, v, names, "SELECT 1", password=old_db).rc != 0, "the old password is dropped"
    assert "WRONGPASS" in redis_auth(host, names, old_redis) or "NOAUTH" in redis_auth(host, names, old_redis)
    assert redis_auth(host, names, new["stack_redis_password"]) == "PONG"
    serves(base_url)
    assert snapshot(host, v, names, new["stack_db_password"], new["stack_redis_password"]) == seeded

    assert changed(converge()) > 0  # and back to the scenario's passwords, the same way
    assert mysql_query(host, v, names, "SELECT 1", password=new["stack_db_password"]).rc != 0
    serves(base_url)
    assert snapshot(host, v, names) == seeded


def test_an_app_image_upgrade_keeps_the_data(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "app"
    shutil.copytree(PROJECT / "roles" / "django_channels" / "files" / "app", source)
    with (source / "chatsite" / "__init__.py").open("a") as init:
        init.write("# resilience upgrade\n")
    old_version = requests.get(f"{base_url}/_djangostack/health", timeout=10).json()["version"]
    assert changed(converge("-e", f"django_channels_source={source}")) > 0
    new_version = requests.get(f"{base_url}/_djangostack/health", timeout=10).json()["version"]
    assert new_version != old_version
    after = snapshot(host, v, names)
    report("app image upgrade", seeded, after, images=f"{old_version} -> {new_version}")
    assert after == seeded
    serves(base_url)
    assert changed(converge()) > 0  # roll back to the original image, kept on the host
    assert requests.get(f"{base_url}/_djangostack/health", timeout=10).json()["version"] == old_version
    assert snapshot(host, v, names) == seeded


def test_a_mysql_image_change_dumps_the_database_first(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    upgraded = f"{v['stack_name']}/mariadb:upgrade-test"
    # Another image (its own ID), as an upgrade would be: a label on top of the scenario's.
    host.check_output(
        f"printf 'FROM {v['mysql_image']}\\nLABEL io.djangostack.test=upgrade\\n' | docker build -q -t {upgraded} -"
    )
    backups = f"/var/backups/{v['stack_name']}/mysql"
    before = set(host.run(f"ls {backups}").stdout.split())
    try:
        result = converge("-e", f"mysql_image={upgraded}")
        assert changed(result) > 0
        new_dumps = sorted(set(host.check_output(f"ls {backups}").split()) - before)
        assert len(new_dumps) == 1, new_dumps
        # The run says where the dump is; compared without the spaces, quotes and escapes the
        # YAML output folds long messages with.
        said = re.sub(r"[\s'\"\\]", "", result.stdout)
        near = result.stdout.find("dumped")
        assert f"wasdumpedfirstto:{backups}/{new_dumps[0]}" in said, (
            result.stdout[near - 600 : near + 600] if near >= 0 else result.stdout
        )
        dump = host.file(f"{backups}/{new_dumps[0]}")
        assert dump.exists and dump.mode == 0o600
        content = host.check_output(f"gunzip -c {dump.path}")
        assert "INSERT INTO `chat_message`" in content
        after = snapshot(host, v, names)
        report("MySQL image change", seeded, after, dump=dump.path)
        assert after == seeded
        assert inspect(host, names["mysql"])["Config"]["Image"] == upgraded
        serves(base_url)
    finally:
        assert changed(converge()) > 0  # back to the scenario's image
        host.run(f"docker rmi {upgraded}")
    assert snapshot(host, v, names) == seeded


def test_every_container_whose_process_dies_comes_back_by_its_restart_policy(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    """A crash or an OOM kill: the container's main process is killed (SIGKILL) from the host."""
    recovery: dict[str, float] = {}
    serving: dict[str, float] = {}
    for role, name in names.items():
        state = inspect(host, name)["State"]
        host.check_output(f"kill -KILL {state['Pid']}")
        start = time.monotonic()
        while inspect(host, name)["State"]["StartedAt"] == state["StartedAt"]:
            assert time.monotonic() - start < 60, f"{name} was not restarted within 60 s"
            time.sleep(0.5)
        wait_until_healthy(host, {role: name}, timeout=120)
        recovery[role] = round(time.monotonic() - start, 1)
        assert inspect(host, name)["RestartCount"] >= 1
        # Right away, with the other containers as they were: the apps' connections to a
        # restarted MySQL or Redis must recover by themselves.
        serving[role] = serves(base_url)
    after = snapshot(host, v, names)
    report(
        "SIGKILL of each container's main process",
        seeded,
        after,
        seconds_to_healthy=recovery,
        then_seconds_to_serve=serving,
    )
    assert after == seeded


def test_every_container_docker_killed_is_brought_back_by_the_next_run(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    """`docker kill` is a manual stop to the engine: no restart policy applies (moby/moby#33306),
    only an engine restart or a start brings it back. nginx keeps serving while one app replica is
    down, and the next site.yml run starts every killed container again."""
    host.check_output(f"docker kill {names['app-1']}")
    pages = [requests.get(f"{base_url}/", timeout=10).status_code for _i in range(20)]
    assert pages == [200] * 20  # the other replica answers
    host.check_output("docker kill " + " ".join(name for role, name in names.items() if role != "app-1"))
    assert all(not inspect(host, name)["State"]["Running"] for name in names.values())
    start = time.monotonic()
    assert changed(converge()) >= len(names)
    wait_until_healthy(host, names, timeout=60)
    serves(base_url)
    after = snapshot(host, v, names)
    report(
        "docker kill of every container, then site.yml",
        seeded,
        after,
        seconds_to_healthy=round(time.monotonic() - start, 1),
    )
    assert after == seeded


def test_a_docker_engine_restart_brings_everything_back(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any]
) -> None:
    pids = host.check_output("pidof dockerd").split()
    assert pids, "a dockerd runs"
    start = time.monotonic()
    host.check_output(f"kill -TERM {' '.join(pids)}")
    while host.run("pidof dockerd").rc == 0:
        assert time.monotonic() - start < 90, "dockerd did not stop"
        time.sleep(0.5)
    # Started again the way this machine starts it (no init system here; systemd elsewhere).
    started = subprocess.run(
        ["bash", str(PROJECT / "scripts" / "ensure-docker.sh")], check=False, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    waited = wait_until_healthy(host, names, timeout=240)
    serves(base_url)
    after = snapshot(host, v, names)
    report("Docker engine restart", seeded, after, seconds_to_healthy=round(time.monotonic() - start, 1))
    assert waited >= 0
    assert after == seeded


def test_backups_rotate_and_restore_into_a_fresh_stack(
    host: Any, v: dict[str, Any], names: dict[str, str], base_url: str, seeded: dict[str, Any], tmp_path: Path
) -> None:
    fetched = tmp_path / "backups"
    for _i in range(3):
        result = playbook(
            PROJECT / "playbooks" / "backup.yml",
            "-e",
            json.dumps(
                {
                    "mysql_backup_keep": 2,
                    "redis_backup_keep": 2,
                    "mysql_backup_fetch_dir": str(fetched),
                    "redis_backup_fetch_dir": str(fetched),
                }
            ),
        )
        assert result.returncode == 0, result.stdout[-4000:]
        time.sleep(1)  # one backup per second at most: names carry the time to the second
    backups = f"/var/backups/{v['stack_name']}"
    dumps = host.check_output(f"ls {backups}/mysql").split()
    snapshots = host.check_output(f"ls {backups}/redis").split()
    assert len(dumps) == 2 and len(snapshots) == 2, (dumps, snapshots)  # rotated by count
    assert (
        host.file(f"{backups}/mysql").mode == 0o700
        and host.file(f"{backups}/mysql/{dumps[-1]}").mode == 0o600
    )
    local = sorted((fetched / "stack-host").iterdir())
    dump = [path for path in local if path.name.endswith(".sql.gz")][-1]
    rdb = [path for path in local if path.name.endswith(".rdb")][-1]

    # A fresh stack: no container, no volume, no configuration; the backups on the controller only.
    destroyed = playbook(
        PROJECT / "playbooks" / "destroy.yml",
        "-e",
        '{"stack_destroy_volumes": true, "stack_destroy_backups": true}',
    )
    assert destroyed.returncode == 0, destroyed.stdout[-3000:]
    assert not host.file(backups).exists
    assert v["stack_name"] + "-mysql-data" not in host.check_output("docker volume ls -q").split()
    assert changed(converge()) > 0
    empty = snapshot(host, v, names)
    assert (empty["rows"], empty["keys"]) == (0, 0)

    # A snapshot that is not one (a dump given as the snapshot) stops the restore before MySQL's.
    refused = playbook(
        PROJECT / "playbooks" / "restore.yml",
        "-e",
        f"mysql_restore_src={dump}",
        "-e",
        f"redis_restore_src={dump}",
    )
    assert refused.returncode != 0 and "redis_restore_src is" in refused.stdout, refused.stdout[-3000:]
    assert "PLAY [Restore MySQL.]" not in refused.stdout
    assert snapshot(host, v, names) == empty

    restored = playbook(
        PROJECT / "playbooks" / "restore.yml",
        "-e",
        f"mysql_restore_src={dump}",
        "-e",
        f"redis_restore_src={rdb}",
    )
    assert restored.returncode == 0, restored.stdout[-4000:]
    # The backups (media archives included) went with the stack: the media stay as they are, saying so.
    assert "are left as they are" in " ".join(restored.stdout.split()), restored.stdout[-3000:]
    wait_until_healthy(host, names, timeout=120)
    after = snapshot(host, v, names)
    report(
        "backup, destroy with volumes, restore into a fresh stack",
        seeded,
        after,
        files=f"{dump.name}, {rdb.name}",
    )
    assert after == seeded
    serves(base_url)

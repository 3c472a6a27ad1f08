"""Four projects the role did not write, each deployed with only its source and secrets, driven
from the outside through its nginx like a person would, and looked at from the host."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import project_playbook
import pytest
import requests
import websockets
import yaml
from stack import inspect, mysql_query

testinfra_hosts = ["apps-host"]
INVENTORY = project_playbook.INVENTORY
MACHINE = yaml.safe_load((INVENTORY / "machine.yml").read_text())

# What each project is: its page, its WebSocket protocol and the table its messages land in.
PROJECTS: dict[str, dict[str, Any]] = {
    "tutorial": {
        "page": "/chat/",
        "marker": "What chat room",
        "ws": "/ws/chat/lobby/",
        "send": "message",
        "table": "chat_message",
        "column": "text",
        "static": "tutorial-chat-stylesheet",
    },
    "notes": {
        "page": "/",
        "marker": "<h1>Notes</h1>",
        "ws": "/ws/notes/",
        "send": "note",
        "table": "notes_note",
        "column": "body",
        "static": "notes-stylesheet",
    },
    "board": {
        "page": "/",
        "marker": "Visits:",
        "ws": "/ws/posts/",
        "send": "text",
        "table": "posts_post",
        "column": "text",
        "static": "board-stylesheet",
    },
    "jobs": {
        "page": "/",
        "marker": "jobs",
        "ws": "/ws/jobs/",
        "send": "job",
        "table": "tasks_job",
        "column": "name",
        "static": "jobs-stylesheet",
    },
}


def settings(project: str) -> dict[str, Any]:
    """The project's inventory, over the stack role's defaults the tests read."""
    defaults = {"stack_db_name": "chat", "stack_db_user": "chat"}
    return {**defaults, **MACHINE, **yaml.safe_load((INVENTORY / f"{project}.yml").read_text())}


def base_url(project: str) -> str:
    return f"http://localhost:{settings(project)['nginx_http_port']}"


def app(project: str, replica: int = 1) -> str:
    return f"apps-{project}-app-{replica}"


def names(project: str) -> dict[str, str]:
    return {"mysql": f"apps-{project}-mysql"}


def query(host: Any, project: str, sql: str) -> str:
    result = mysql_query(host, settings(project), names(project), sql)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def in_app(host: Any, project: str, code: str, container: str | None = None) -> str:
    """Run Python in an app container as its processes run (the image's entry point prepares it)."""
    return host.check_output(
        f"docker exec {container or app(project)} python3 -m djangostack.entrypoint python3 -c {json.dumps(code)}"
    )


async def _two_clients(
    project: str, payload: dict[str, str], replies: int = 1
) -> tuple[list[dict], list[dict]]:
    url = base_url(project).replace("http", "ws", 1) + PROJECTS[project]["ws"]
    async with (
        websockets.connect(url, origin=base_url(project)) as first,
        websockets.connect(url, origin=base_url(project)) as second,
    ):
        await first.send(json.dumps(payload))
        seen_first = [json.loads(await asyncio.wait_for(first.recv(), 20)) for _i in range(replies)]
        seen_second = [
            json.loads(await asyncio.wait_for(second.recv(), 20))
            for _i in range(replies if project != "jobs" else 1)
        ]
        return seen_first, seen_second


@pytest.mark.parametrize("project", PROJECTS)
def test_every_container_runs_healthy_and_hardened(host: Any, project: str) -> None:
    containers = host.check_output(
        f"docker ps -a --filter label=io.djangostack.stack=apps-{project} --format '{{{{.Names}}}}'"
    ).split()
    expected = {f"apps-{project}-{n}" for n in ("mysql", "redis", "nginx", "app-1", "app-2")}
    if project == "jobs":
        expected.add("apps-jobs-app-worker-1")
    assert expected <= set(containers)
    for name in expected:
        state = inspect(host, name)
        assert state["State"]["Health"]["Status"] == "healthy", name
        if "-app-" in name:
            assert state["Config"]["User"] == "10001", name
            assert state["HostConfig"]["ReadonlyRootfs"], name
            assert state["HostConfig"]["CapDrop"] == ["ALL"], name


@pytest.mark.parametrize("project", PROJECTS)
def test_the_page_and_its_static_file_come_through_nginx(project: str) -> None:
    response = requests.get(base_url(project) + PROJECTS[project]["page"], timeout=10)
    assert response.status_code == 200, response.text[:500]
    assert PROJECTS[project]["marker"] in response.text
    if project == "jobs":  # a plain-text page: its stylesheet by its name
        stylesheet = "/static/tasks/jobs.css"
    else:
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', response.text).group(1)
    static = requests.get(base_url(project) + stylesheet, timeout=10)
    assert static.status_code == 200
    assert PROJECTS[project]["static"] in static.text
    # nginx's own answer from the static volume, not the app's
    assert "public" in static.headers["Cache-Control"] and "Expires" in static.headers


@pytest.mark.parametrize("project", PROJECTS)
def test_the_health_endpoint_checks_the_database_and_the_channel_layer(project: str) -> None:
    health = requests.get(base_url(project) + "/_djangostack/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"] == health.json()["channel_layer"] == "ok"


@pytest.mark.parametrize("project", [p for p in PROJECTS if p != "jobs"])
def test_a_websocket_message_reaches_a_second_client_and_lands_in_mysql(host: Any, project: str) -> None:
    text = f"hello-{project}-{uuid.uuid4().hex[:8]}"
    first, second = asyncio.run(_two_clients(project, {PROJECTS[project]["send"]: text}))
    assert text in json.dumps(first) and text in json.dumps(second)
    table, column = PROJECTS[project]["table"], PROJECTS[project]["column"]
    assert query(host, project, f"SELECT COUNT(*) FROM {table} WHERE {column} = '{text}'") == "1"


@pytest.mark.parametrize("project", PROJECTS)
def test_the_project_runs_on_the_stacks_mysql_and_redis(host: Any, project: str) -> None:
    found = json.loads(
        in_app(
            host,
            project,
            "import json, django; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'], "
            "s.CHANNEL_LAYERS['default']['BACKEND'], s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address'].split('@')[-1], "
            "s.STATIC_ROOT, s.MEDIA_ROOT, s.DEBUG, s.ALLOWED_HOSTS]))",
        )
    )
    layer = (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
        if project == "board"
        else "channels_redis.core.RedisChannelLayer"
    )
    assert found == [
        "django.db.backends.mysql",
        f"apps-{project}-mysql",
        layer,
        f"apps-{project}-redis:6379/0",
        "/srv/static",
        "/srv/media",
        False,
        ["localhost", "127.0.0.1"],
    ]
    # The 12-factor variables, for a project that reads them.
    environment = in_app(
        host,
        project,
        "import os; print(os.environ['DATABASE_URL'].split('@')[1], os.environ['REDIS_URL'].split('@')[1])",
    )
    assert environment.split() == [
        f"apps-{project}-mysql:3306/{settings(project)['stack_db_name']}",
        f"apps-{project}-redis:6379/0",
    ]
    # Nothing of the project's own settings changed on disk, and the migrations ran in MySQL.
    assert query(host, project, "SELECT COUNT(*) FROM django_migrations") != "0"


def test_poetry_installs_the_main_group_only(host: Any) -> None:
    assert host.run(f"docker exec {app('notes')} python3 -c 'import uvicorn, channels_redis'").rc == 0
    assert host.run(f"docker exec {app('notes')} python3 -c 'import pytest'").rc != 0
    assert host.run(f"docker exec {app('notes')} sh -c 'command -v poetry'").rc != 0
    # poetry.lock's exact versions
    lock = (Path(__file__).resolve().parents[1] / "projects/notes/poetry.lock").read_text()
    redis_version = re.search(r'name = "redis"\nversion = "([^"]+)"', lock).group(1)
    assert (
        host.check_output(f"docker exec {app('notes')} python3 -c 'import redis; print(redis.__version__)'")
        == redis_version
    )


def test_uv_installs_the_locked_versions_without_the_dev_group(host: Any) -> None:
    lock = (Path(__file__).resolve().parents[1] / "projects/board/uv.lock").read_text()
    django_version = re.search(r'name = "django"\nversion = "([^"]+)"', lock).group(1)
    assert (
        host.check_output(f"docker exec {app('board')} python3 -c 'import django; print(django.__version__)'")
        == django_version
    )
    assert host.run(f"docker exec {app('board')} python3 -c 'import ruff'").rc != 0
    # What the deployment needs and the project lacks, added: the ASGI server its inventory names
    # (uvicorn, with its C event loop and HTTP parser) and a MySQL driver.
    assert (
        host.run(f"docker exec {app('board')} python3 -c 'import uvicorn, uvloop, httptools, pymysql'").rc
        == 0
    )
    assert host.run(f"docker exec {app('board')} python3 -c 'import gunicorn'").rc != 0


@pytest.mark.parametrize("project", [p for p in PROJECTS if p != "jobs"])
def test_websocket_compression_is_agreed_only_where_the_inventory_turns_it_on(project: str) -> None:
    """A browser offers per-message deflate; the app server takes it only with
    django_channels_websocket_compression (board's, on the uvicorn server), through nginx."""

    async def extensions() -> str | None:
        url = base_url(project).replace("http", "ws", 1) + PROJECTS[project]["ws"]
        async with websockets.connect(url, origin=base_url(project)) as socket:
            return socket.response.headers.get("Sec-WebSocket-Extensions")

    agreed = asyncio.run(extensions())
    if project == "board":
        assert agreed and agreed.startswith("permessage-deflate"), agreed
    else:
        assert agreed is None, agreed


def test_a_cache_on_local_redis_uses_the_stacks_redis(host: Any) -> None:
    counts = [
        int(re.search(r"Visits: (\d+)", requests.get(base_url("board"), timeout=10).text).group(1))
        for _i in range(4)
    ]
    assert counts == sorted(counts) and counts[-1] - counts[0] == 3  # one count across both replicas
    password = settings("board")["stack_redis_password"]
    keys = host.check_output(
        f"docker exec -e REDISCLI_AUTH={password} apps-board-redis redis-cli -n 1 --scan"
    )
    assert ":1:visits" in keys.split()


def test_uploaded_media_are_served_by_nginx_sandboxed(host: Any) -> None:
    name = f"note-{uuid.uuid4().hex[:8]}.html"
    body = b"<script>alert(1)</script>"
    url = requests.post(f"{base_url('board')}/upload/?name={name}", data=body, timeout=10).json()["url"]
    assert url == f"/media/{name}"
    served = requests.get(base_url("board") + url, timeout=10)
    assert served.status_code == 200 and served.content == body
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Served-By" not in served.headers  # nginx's answer, from the media volume
    assert host.run(f"docker exec apps-board-app-2 test -f /srv/media/{name}").rc == 0


def test_the_worker_process_does_the_job_and_is_not_in_nginx_upstream(host: Any) -> None:
    job = f"thumb-{uuid.uuid4().hex[:8]}"
    (queued, done), (other_client,) = asyncio.run(_two_clients("jobs", {"job": job}, replies=2))
    assert queued["status"] == "queued"
    assert done == {
        "id": queued["id"],
        "status": "done",
        "done_by": inspect(host, "apps-jobs-app-worker-1")["Config"]["Hostname"],
    }
    assert other_client == done  # broadcast to every client
    assert query(host, "jobs", f"SELECT status FROM tasks_job WHERE name = '{job}'") == "done"
    nginx_config = host.check_output("docker exec apps-jobs-nginx cat /etc/nginx/djangostack/nginx.conf")
    assert "apps-jobs-app-1:" in nginx_config and "apps-jobs-app-worker" not in nginx_config
    labels = inspect(host, "apps-jobs-app-worker-1")["Config"]["Labels"]
    assert labels["io.djangostack.process"] == "worker"
    assert (
        inspect(host, "apps-jobs-app-worker-1")["Config"]["Image"]
        == inspect(host, app("jobs"))["Config"]["Image"]
    )


def test_media_survive_a_backup_and_restore(host: Any, tmp_path: Path) -> None:
    name = f"kept-{uuid.uuid4().hex[:8]}.txt"
    url = requests.post(f"{base_url('board')}/upload/?name={name}", data=b"kept", timeout=10).json()["url"]
    backup = project_playbook.run(
        "board", "backup", "--tags", "media", "-e", f"django_channels_backup_fetch_dir={tmp_path}"
    )
    assert backup.returncode == 0, backup.stdout[-3000:]
    assert list(tmp_path.rglob("media-*.tar.gz"))
    host.check_output(f"docker exec apps-board-app-1 rm /srv/media/{name}")
    assert requests.get(base_url("board") + url, timeout=10).status_code == 404
    # A file that is not an archive is refused before anything changes.
    wrong = tmp_path / "not-an-archive.tar.gz"
    wrong.write_text("plain text")
    refused = project_playbook.run(
        "board", "restore", "--tags", "media", "-e", f"django_channels_restore_src={wrong}"
    )
    assert refused.returncode != 0 and "django_channels_restore_src" in refused.stdout + refused.stderr
    restore = project_playbook.run("board", "restore", "--tags", "media")
    assert restore.returncode == 0, restore.stdout[-3000:]
    served = requests.get(base_url("board") + url, timeout=10)
    assert served.status_code == 200 and served.content == b"kept"

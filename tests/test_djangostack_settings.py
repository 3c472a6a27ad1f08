"""The settings overlay's channel layer: the one django_channels_channel_layer names for a project
without a Redis layer of its own; a project's own Redis layer keeps its backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[1] / "roles" / "django_channels" / "files"


def overlaid_layer(tmp_path: Path, project_layer: str, backend: str) -> dict:
    (tmp_path / "project_settings.py").write_text(
        f"CHANNEL_LAYERS = {{'default': {{'BACKEND': {project_layer!r}}}}}\nSECRET_KEY = 'x'\n"
    )
    (tmp_path / "plan.json").write_text(
        json.dumps(
            {
                "project_dir": str(tmp_path),
                "settings_module": "project_settings",
                "asgi_application": "project_asgi:application",
            }
        )
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(LAYER), str(tmp_path)]),
        "DJANGOSTACK_USER_SETTINGS": "project_settings",
        "DJANGOSTACK_PLAN": str(tmp_path / "plan.json"),
        "DJANGO_SECRET_KEY": "test-only",
        "REDIS_HOST": "redis",
        "CHANNEL_LAYER_BACKEND": backend,
        "CHANNEL_LAYER_CAPACITY": "5000",
    }
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, djangostack.settings as s; print(json.dumps(s.CHANNEL_LAYERS['default'], default=str))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(printed.stdout)


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("core", "channels_redis.core.RedisChannelLayer"),
        ("pubsub", "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ],
)
def test_a_project_without_a_redis_layer_gets_the_one_named(
    tmp_path: Path, backend: str, expected: str
) -> None:
    layer = overlaid_layer(tmp_path, "channels.layers.InMemoryChannelLayer", backend)
    assert layer["BACKEND"] == expected
    assert layer["CONFIG"]["hosts"][0]["address"].startswith("redis://")
    assert ("capacity" in layer["CONFIG"]) is (backend == "core")


def test_a_projects_own_redis_layer_keeps_its_backend(tmp_path: Path) -> None:
    layer = overlaid_layer(tmp_path, "channels_redis.pubsub.RedisPubSubChannelLayer", "core")
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"

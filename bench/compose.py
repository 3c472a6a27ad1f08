"""Write the docker-compose file equivalent to a stack the roles deployed, from the containers
themselves (docker inspect): same images, commands, users, environment, configuration files,
volumes, health checks, capabilities, limits and network aliases, plus the one-off release
(migrations and collectstatic) the app waits for. The configuration files are copied next to it,
so the file still works once the stack is gone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

NANOSECONDS = 1_000_000_000


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def inspect_stack(stack: str) -> list[dict[str, Any]]:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=io.djangostack.stack={stack}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return json.loads(
        subprocess.run(["docker", "inspect", *ids], check=True, capture_output=True, text=True).stdout
    )


def _duration(nanoseconds: int) -> str:
    return f"{nanoseconds / NANOSECONDS:g}s"


def _service(container: dict[str, Any], stack: str, base_dir: Path, config_copy: Path) -> dict[str, Any]:
    config, host = container["Config"], container["HostConfig"]
    image_env = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Env}}", config["Image"]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    volumes = []
    for mount in host.get("Mounts") or []:
        source = mount["Source"]
        if mount["Type"] == "bind":
            source = str(config_copy / Path(source).relative_to(base_dir))
        volumes.append(f"{source}:{mount['Target']}" + (":ro" if mount.get("ReadOnly") else ""))
    health = config["Healthcheck"]
    network = container["NetworkSettings"]["Networks"][stack]
    service: dict[str, Any] = {
        "image": config["Image"],
        "container_name": container["Name"].lstrip("/"),
        "command": config["Cmd"],
        "user": config["User"] or None,
        "environment": [item for item in config["Env"] if item not in image_env],
        "volumes": volumes,
        "tmpfs": [
            f"{path}:{options}" if options else path for path, options in (host.get("Tmpfs") or {}).items()
        ],
        "ports": [
            f"{binding['HostIp']}:{binding['HostPort']}:{port.split('/')[0]}"
            for port, bindings in (host.get("PortBindings") or {}).items()
            for binding in bindings or []
        ],
        "networks": {
            stack: {"aliases": [alias for alias in network.get("Aliases") or [] if len(alias) != 12]}
        },
        "healthcheck": {
            "test": health["Test"],
            "interval": _duration(health["Interval"]),
            "timeout": _duration(health["Timeout"]),
            "retries": health["Retries"],
            "start_period": _duration(health["StartPeriod"]),
        },
        "restart": host["RestartPolicy"]["Name"],
        "cap_drop": host.get("CapDrop") or [],
        "cap_add": host.get("CapAdd") or [],
        "read_only": host["ReadonlyRootfs"],
        "security_opt": host.get("SecurityOpt") or [],
        "mem_limit": host["Memory"] or None,
        "cpus": host["NanoCpus"] / NANOSECONDS if host["NanoCpus"] else None,
        "stop_grace_period": f"{config.get('StopTimeout') or 10}s",
        "logging": {"driver": host["LogConfig"]["Type"], "options": host["LogConfig"]["Config"]},
    }
    return {key: value for key, value in service.items() if value not in (None, [], {})}


def _escape(value: Any) -> Any:
    """Compose interpolates $VARIABLE in every string; the containers' own strings keep their $."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(item) for item in value]
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    return value


def write_compose(stack: str, base_dir: Path, out_dir: Path, release_command: str) -> Path:
    """Write out_dir/docker-compose.yml (and a copy of the stack's configuration) for the running stack."""
    config_copy = out_dir / "config"
    shutil.rmtree(config_copy, ignore_errors=True)
    # With owners and modes: the servers read their secrets as their own uids.
    subprocess.run(["cp", "-a", str(base_dir), str(config_copy)], check=True)
    containers = inspect_stack(stack)
    services = {
        container["Config"]["Labels"]["io.djangostack.role"]
        + (f"-{container['Name'].rsplit('-', 1)[-1]}" if "-app-" in container["Name"] else ""): _service(
            container, stack, base_dir, config_copy
        )
        for container in containers
    }
    apps = [name for name in services if name.startswith("django_channels")]
    # What the mysql role converges through the server, compose asks of the image's first start.
    app_env = dict(item.split("=", 1) for item in services[apps[0]]["environment"])
    secrets = json.loads((base_dir / "app" / "secrets" / "secrets.json").read_text())
    services["mysql"]["environment"] += [
        f"MYSQL_DATABASE={app_env['DJANGO_DB_NAME']}",
        f"MYSQL_USER={app_env['DJANGO_DB_USER']}",
        f"MYSQL_PASSWORD={secrets['DJANGO_DB_PASSWORD']}",
    ]
    data = {"mysql": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    release = {
        key: services[apps[0]][key]
        for key in ("image", "environment", "user", "security_opt", "cap_drop", "networks")
    }
    release["command"] = ["sh", "-c", release_command]
    release["volumes"] = [f"{stack}-static:/srv/static"] + [
        volume for volume in services[apps[0]]["volumes"] if "/run/secrets/" in volume
    ]
    release["depends_on"] = data
    services["release"] = release
    for app in apps:
        services[app]["depends_on"] = {"release": {"condition": "service_completed_successfully"}}
    services["nginx"]["depends_on"] = {app: {"condition": "service_healthy"} for app in apps}
    named = sorted(
        {
            volume.split(":")[0]
            for service in services.values()
            for volume in service.get("volumes", [])
            if not volume.startswith("/")
        }
    )
    compose = {
        "services": _escape(services),
        "networks": {stack: {"name": stack}},
        "volumes": {name: {"name": name} for name in named},
    }
    path = out_dir / "docker-compose.yml"
    path.write_text(yaml.dump(compose, Dumper=_Dumper, sort_keys=False))
    path.chmod(0o600)  # the environment holds the stack's secrets
    return path

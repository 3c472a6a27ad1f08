#!/usr/bin/python
# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until containers are healthy, polling the engine often (see DOCUMENTATION)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: wait_healthy
short_description: Wait until one or more containers are healthy
description:
  - Polls the Docker engine every O(interval) seconds until every named container's health check
    reports C(healthy), or it runs no health check and is running.
  - Several containers are waited for together, so containers started one after another without
    waiting become ready in parallel.
  - C(community.docker.docker_container) with C(state=healthy) waits too, but its polls start 1 s
    apart and grow by 10 % each time, so that on this collection's benchmark a container healthy
    after 2.0 s was seen healthy only after 3.3 s. With O(interval=0.25) it is seen within 0.25 s.
  - Fails as soon as a container is missing or has stopped (and is not being restarted), and when
    O(timeout) passes; the result then carries every container's state. An C(unhealthy) container
    is waited for, as it may recover.
version_added: 1.2.0
author: djangostack.channels contributors
extends_documentation_fragment:
  - community.docker.docker.api_documentation
options:
  names:
    description: Names (or IDs) of the containers.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait in all.
    type: int
    default: 300
  interval:
    description: Seconds between two polls of the engine.
    type: float
    default: 0.25
attributes:
  check_mode:
    support: full
    details: In check mode nothing is waited for.
  diff_mode:
    support: none
requirements:
  - Docker API >= 1.25
"""

EXAMPLES = r"""
- name: Wait until MySQL and Redis are healthy.
  djangostack.channels.wait_healthy:
    names: [djangostack-mysql, djangostack-redis]
    timeout: 300
"""

RETURN = r"""
health:
  description: Container name to its last health status (C(none) when it runs no health check).
  returned: always
  type: dict
  sample: {"djangostack-mysql": "healthy"}
seconds:
  description: How long the wait took.
  returned: always
  type: float
"""

import time
from typing import Any

from ansible_collections.community.docker.plugins.module_utils.common_api import AnsibleDockerClient


def health_of(container: dict[str, Any] | None) -> str:
    """healthy, starting, unhealthy, none (no health check, running), stopped or missing."""
    if container is None:
        return "missing"
    state = container.get("State") or {}
    if not state.get("Running") and not state.get("Restarting"):
        return "stopped"
    health = (state.get("Health") or {}).get("Status")
    if health:
        return health
    return "none" if state.get("Running") else "starting"


def main() -> None:
    client = AnsibleDockerClient(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "int", "default": 300},
            "interval": {"type": "float", "default": 0.25},
        },
        supports_check_mode=True,
    )
    params = client.module.params
    start = time.monotonic()
    health: dict[str, str] = {}
    if client.module.check_mode:
        client.module.exit_json(changed=False, health=health, seconds=0.0)
    waiting = list(params["names"])
    while True:
        for name in list(waiting):
            health[name] = health_of(client.get_container_by_id(name))
            if health[name] in ("healthy", "none"):
                waiting.remove(name)
        seconds = round(time.monotonic() - start, 2)
        if not waiting:
            client.module.exit_json(changed=False, health=health, seconds=seconds)
        # An unhealthy container may still recover (a server it needs coming back): it is waited for.
        given_up = [name for name in waiting if health[name] in ("missing", "stopped")]
        if given_up:
            states = ", ".join(f"{name} is {health[name]}" for name in given_up)
            client.fail(f"{states} after {seconds} s.", health=health, seconds=seconds)
        if seconds > params["timeout"]:
            states = ", ".join(f"{name} is still {health[name]}" for name in waiting)
            client.fail(f"{states} after {seconds} s.", health=health, seconds=seconds)
        time.sleep(params["interval"])


if __name__ == "__main__":
    main()

# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The private_address filter (documented in private_address.yml): where the stack's other hosts reach a host."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def private_address(host: str, hostvars: Mapping[str, Any]) -> str:
    """Return the address other hosts of the stack reach ``host`` at.

    In order: the host's ``stack_private_address``, its ``ansible_host``, its inventory name.
    """
    variables = hostvars[host] if host in hostvars else {}
    for name in ("stack_private_address", "ansible_host"):
        value = variables.get(name) if hasattr(variables, "get") else None
        if value:
            return str(value)
    return host


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"private_address": private_address}

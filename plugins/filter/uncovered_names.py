# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uncovered_names filter (documented in uncovered_names.yml): server names a certificate does not cover."""

from __future__ import annotations

import ipaddress
from typing import Any


def _covers(entry: str, name: str) -> bool:
    kind, _sep, value = str(entry).partition(":")
    if kind == "IP":
        try:
            return ipaddress.ip_address(value) == ipaddress.ip_address(name)
        except ValueError:
            return False
    if kind != "DNS":
        return False
    pattern, name = value.lower().rstrip("."), name.lower().rstrip(".").lstrip(".")
    if pattern.startswith("*."):
        # A wildcard stands for exactly one label (RFC 6125).
        head, _dot, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def uncovered_names(names: list[Any], subject_alt_names: list[Any]) -> list[str]:
    """The names of ``names`` that no entry of ``subject_alt_names`` (DNS:... or IP:...) covers."""
    return [str(name) for name in names if not any(_covers(entry, str(name)) for entry in subject_alt_names)]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"uncovered_names": uncovered_names}

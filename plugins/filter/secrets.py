"""Filters for checking secrets without ever printing them."""

from __future__ import annotations

import re
from typing import Any

_TRAILING = re.compile(r"[\d\W_]+$")


def weak_secrets(
    secrets: dict[str, Any], min_length: int = 12, weak_values: list[str] | None = None
) -> list[str]:
    """Return the sorted names of the secrets that are not strings, too short or well known.

    Only names are returned, so the result can go into an error message. A value counts as well
    known when it is in ``weak_values`` (case-insensitive), also once trailing digits and
    punctuation are dropped (``Password123!`` is ``password``), or has fewer than 4 distinct characters.
    """
    weak = {value.lower() for value in (weak_values or [])}
    names = []
    for name, value in secrets.items():
        if not isinstance(value, str) or len(value) < min_length:
            names.append(name)
            continue
        lowered = value.lower()
        if lowered in weak or _TRAILING.sub("", lowered) in weak or len(set(value)) < 4:
            names.append(name)
    return sorted(names)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"weak_secrets": weak_secrets}

"""What the collection's modules share: writing a file atomically, with its attributes set first."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule


def file_attributes(
    module: AnsibleModule, path: str, mode: str, owner: str | None = None, group: str | None = None
) -> dict[str, Any]:
    """The arguments set_fs_attributes_if_different takes, for one path."""
    return module.load_file_common_arguments({"path": path, "owner": owner, "group": group, "mode": mode})


def write_file(
    module: AnsibleModule,
    path: str,
    content: bytes,
    mode: str,
    owner: str | None = None,
    group: str | None = None,
) -> None:
    """Replace `path` with `content` in one rename, from a temporary file in the same directory.

    Owner and mode are set before the file takes its name, so a secret is never readable by others.
    """
    fd, temporary = tempfile.mkstemp(prefix=".djangostack-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        module.set_fs_attributes_if_different(file_attributes(module, temporary, mode, owner, group), False)
        module.atomic_move(temporary, path, unsafe_writes=False)
        # atomic_move keeps the attributes of the file it replaces: set the wanted ones again.
        module.set_fs_attributes_if_different(file_attributes(module, path, mode, owner, group), False)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)

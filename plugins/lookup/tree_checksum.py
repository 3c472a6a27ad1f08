# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: a checksum of a directory tree on the controller (see DOCUMENTATION)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tree_checksum
author: djangostack.channels contributors (@djangostack)
version_added: 1.0.0
short_description: SHA-256 of a directory tree's paths and contents, read on the controller
description:
  - No lookup or module of ansible-core hashes a directory tree without a module call per file
    (M(ansible.builtin.find) with C(get_checksum) runs on a host, and reads every file there).
  - Walks each directory given, in a stable order, and hashes every file's relative path,
    mode bit for execution and content. Byte-code caches (C(__pycache__), C(*.pyc)), version control,
    tool caches, C(.venv) and C(node_modules) are left out, as the app's build leaves them out of the
    source it sends to the host.
  - Used to tag an image built from a source tree, so that the image is rebuilt exactly when
    the source changes.
options:
  _terms:
    description: Directories on the controller.
    required: true
"""

EXAMPLES = r"""
- name: Tag the image with the source's checksum.
  ansible.builtin.set_fact:
    app_tag: "{{ lookup('djangostack.channels.tree_checksum', '/srv/app')[:12] }}"
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 digest per directory.
  type: list
  elements: str
"""

import hashlib
import os
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# As the build leaves them out of the source it sends (roles/django_channels/tasks/build.yml).
SKIPPED_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv", "node_modules"}


def tree_checksum(root: str) -> str:
    digest = hashlib.sha256()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            digest.update(relative.encode() + b"\0")
            digest.update(b"x" if os.access(path, os.X_OK) else b"-")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        results = []
        for term in terms:
            path = os.path.expanduser(str(term))
            if not os.path.isdir(path):
                raise AnsibleLookupError(f"tree_checksum: {path} is not a directory on the controller")
            results.append(tree_checksum(path))
        return results

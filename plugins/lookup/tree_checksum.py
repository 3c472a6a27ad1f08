"""Lookup plugin: a checksum of a directory tree on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tree_checksum
author: djangostack
short_description: SHA-256 of a directory tree's paths and contents, read on the controller
description:
  - Walks each directory given, in a stable order, and hashes every file's relative path,
    mode bit for execution and content. Byte-code caches (C(__pycache__), C(*.pyc)) are left out,
    like the sample app's C(.dockerignore) leaves them out of the image.
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

SKIPPED_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


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

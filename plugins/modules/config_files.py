#!/usr/bin/python
"""Module: converge a role's directories and files in one call, tested before they go live."""

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
author: djangostack
short_description: Directories and files of a service, written in one call and tested first
description:
  - Makes sure each directory exists with its owner, group and mode, then writes each file
    whose content differs (atomically, in the same directory) and sets its owner, group and mode.
  - One module call for what would otherwise be one M(ansible.builtin.file) call per directory
    and two calls (a stat, then a copy) per M(ansible.builtin.template); a role's no-op re-run
    runs one module instead of several.
  - When a file's content is to change and O(validate) is set, every file of the call is first
    written to a staging directory, at its path relative to O(validate_root), and the command
    runs on it; nothing goes live unless it succeeds. nginx tests its main and site
    configuration together this way.
  - Render templates on the controller with the P(ansible.builtin.template#lookup) lookup.
options:
  directories:
    description: Directories to create, parents first.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner (name or uid).
        type: str
      group:
        description: Group (name or gid).
        type: str
      mode:
        description: Mode, as an octal string such as C("0755").
        type: str
        required: true
  files:
    description: Files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path. Its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description: The file's full content.
        type: str
        required: true
      owner:
        description: Owner (name or uid).
        type: str
      group:
        description: Group (name or gid).
        type: str
      mode:
        description: Mode, as an octal string such as C("0644").
        type: str
        required: true
  validate:
    description:
      - Command run before any file changes, with C(%s) replaced by the staging directory.
      - It runs only when the content of at least one file is to change.
    type: str
  validate_root:
    description:
      - Directory that the staging directory stands for; every file of the call must be below it.
      - Required with O(validate).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Each file whose content changes shows its old and new content; a task with C(no_log) shows none.
"""

EXAMPLES = r"""
- name: Write the nginx configuration, tested with nginx -t before it goes live.
  djangostack.channels.config_files:
    directories:
      - {path: /etc/djangostack/nginx/conf, owner: root, group: root, mode: "0755"}
      - {path: /etc/djangostack/nginx/conf/sites, owner: root, group: root, mode: "0755"}
    files:
      - dest: /etc/djangostack/nginx/conf/nginx.conf
        content: "{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}"
        mode: "0644"
    validate: docker run --rm -v %s:/etc/nginx/conf:ro nginx:1.27 nginx -t -c /etc/nginx/conf/nginx.conf
    validate_root: /etc/djangostack/nginx/conf
  notify: Reload nginx.
"""

RETURN = r"""
changed_paths:
  description: The directories and files created or changed (content, owner, group or mode).
  returned: always
  type: list
  elements: str
"""

import os
import shutil
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djangostack.channels.plugins.module_utils.files import file_attributes, write_file

ENTRY = {"owner": {"type": "str"}, "group": {"type": "str"}, "mode": {"type": "str", "required": True}}


def file_args(module: AnsibleModule, path: str, entry: dict[str, Any]) -> dict[str, Any]:
    return file_attributes(module, path, entry["mode"], entry.get("owner"), entry.get("group"))


def current_content(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def file_diff(path: str, before: bytes | None, after: bytes) -> dict[str, str]:
    """What --diff shows for a file whose content changes (a task with no_log shows nothing)."""
    return {
        "before_header": path if before is not None else "(absent)",
        "after_header": path,
        "before": before.decode(errors="replace") if before is not None else "",
        "after": after.decode(errors="replace"),
    }


def validate(module: AnsibleModule, files: list[dict[str, Any]]) -> None:
    root = os.path.normpath(module.params["validate_root"])
    staging = tempfile.mkdtemp(prefix=".djangostack-validate-", dir=module.tmpdir)
    try:
        for entry in files:
            relative = os.path.relpath(entry["dest"], root)
            if relative.startswith(".."):
                module.fail_json(msg=f"{entry['dest']} is not below validate_root {root}")
            staged = os.path.join(staging, relative)
            os.makedirs(os.path.dirname(staged), exist_ok=True)
            with open(staged, "wb") as handle:
                handle.write(entry["content"].encode())
        command = module.params["validate"].replace("%s", staging)
        rc, out, err = module.run_command(command, use_unsafe_shell=False)
        if rc != 0:
            module.fail_json(
                msg=f"The new files failed validation ({command}); nothing was changed.",
                rc=rc,
                stdout=out,
                stderr=err,
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "directories": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"path": {"type": "path", "required": True}, **ENTRY},
            },
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "dest": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    **ENTRY,
                },
            },
            "validate": {"type": "str"},
            "validate_root": {"type": "path"},
        },
        required_by={"validate": "validate_root"},
        supports_check_mode=True,
    )
    changed_paths: list[str] = []

    for entry in module.params["directories"]:
        path = entry["path"]
        created = not os.path.isdir(path)
        if created and not module.check_mode:
            os.makedirs(path)
        # In check mode a directory still to create has no attributes to compare.
        attributes_changed = os.path.isdir(path) and module.set_fs_attributes_if_different(
            file_args(module, path, entry), False
        )
        if created or attributes_changed:
            changed_paths.append(path)

    before = {entry["dest"]: current_content(entry["dest"]) for entry in module.params["files"]}
    pending = [
        entry for entry in module.params["files"] if before[entry["dest"]] != entry["content"].encode()
    ]
    if pending and module.params["validate"] and not module.check_mode:
        validate(module, module.params["files"])

    for entry in module.params["files"]:
        if entry in pending:
            changed_paths.append(entry["dest"])
            if not module.check_mode:
                write_file(
                    module,
                    entry["dest"],
                    entry["content"].encode(),
                    entry["mode"],
                    entry.get("owner"),
                    entry.get("group"),
                )
        elif module.set_fs_attributes_if_different(file_args(module, entry["dest"], entry), False):
            changed_paths.append(entry["dest"])

    result: dict[str, Any] = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = [
            file_diff(entry["dest"], before[entry["dest"]], entry["content"].encode()) for entry in pending
        ]
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Module: take or release a host's deploy lock in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
author: djangostack
short_description: Take or release the deploy lock of a stack on a host
description:
  - "The lock is a small file of C(key: value) lines naming the run that holds it, with at least
    an C(id) line."
  - With O(state=present), writes the lock when there is none, when it holds the same O(id), or
    with O(force); otherwise leaves it alone and returns what it holds, so that the caller can
    decide whether its holder is gone (a dead process on the controller, an old lock) and take it
    over with O(force).
  - With O(state=absent), removes the lock only when it holds O(id).
  - The site playbook's C(lock.yml) and C(unlock.yml) of the C(stack) role use it, one module
    call each, instead of a read, a directory and a write.
options:
  path:
    description: The lock file.
    type: path
    required: true
  id:
    description: This run's identifier.
    type: str
    required: true
  state:
    description: Take (V(present)) or release (V(absent)) the lock.
    type: str
    choices: [present, absent]
    default: present
  content:
    description: The lock's content, with an C(id) line for O(id). Required with O(state=present).
    type: str
  force:
    description: Take the lock even when another run holds it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Take the deploy lock.
  djangostack.channels.deploy_lock:
    path: /opt/djangostack/deploy.lock
    id: "1234"
    content: |
      id: 1234
      owner: "alice@controller"
  register: lock
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock now (O(state=present)).
  returned: always
  type: bool
held:
  description: The fields of the lock found, before this call (empty when there was none).
  returned: always
  type: dict
released:
  description: Whether the lock was removed (O(state=absent)).
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djangostack.channels.plugins.module_utils.files import write_file


def read(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return {}
    fields = {}
    for line in lines:
        key, separator, value = line.partition(":")
        if separator and not line.startswith("#"):
            fields[key.strip()] = value.strip().strip('"')
    return fields


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "id": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "content": {"type": "str"},
            "force": {"type": "bool", "default": False},
        },
        required_if=[("state", "present", ["content"])],
        supports_check_mode=True,
    )
    path, run_id = module.params["path"], module.params["id"]
    held = read(path)
    ours = held.get("id") == run_id

    if module.params["state"] == "absent":
        if ours and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=ours, acquired=False, held=held, released=ours)

    acquired = not held or ours or module.params["force"]
    if acquired and not module.check_mode:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        write_file(module, path, module.params["content"].encode(), "0644")
    module.exit_json(changed=acquired, acquired=acquired, held=held, released=False)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take, take over or release a host's deploy lock atomically (see DOCUMENTATION)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
short_description: Take, take over or release the deploy lock of a stack on a host, atomically
description:
  - "The lock is a small file of C(key: value) lines naming the run that holds it, with at least
    an C(id) line."
  - No module of ansible-core or of the collections this one depends on takes a lock. Writing the
    file with M(ansible.builtin.copy) after a M(ansible.builtin.stat) lets two runs started
    together both find no lock and both take it; this module creates the file with C(O_CREAT|O_EXCL),
    which succeeds for one of them only.
  - With O(state=present), takes the lock when there is none, or when it already holds O(id).
    Otherwise it leaves the lock alone and returns what it holds, so that the caller can decide
    whether its holder is gone (its process has ended, or the lock is old) and take it over with
    O(take_over), naming the holder it found.
  - A take-over replaces the lock only if it still holds the id given in O(take_over), under a
    second lock file (C(PATH.takeover)) taken with C(O_EXCL) too, so that of two runs taking over
    the same dead holder's lock only one succeeds.
  - With O(state=absent), removes the lock only when it holds O(id).
version_added: 2.0.0
author: djangostack.channels contributors (@djangostack)
options:
  path:
    description: The lock file. Its directory is created if missing.
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
  take_over:
    description:
      - The id of a holder that is gone, whose lock this run takes over.
      - The lock is taken only if it still holds that id.
    type: str
attributes:
  check_mode:
    support: full
    description: In check mode, the lock is read, never written or removed.
  diff_mode:
    support: none
    description: The lock is bookkeeping of a run, not configuration.
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

- name: Take over the lock of a run that died.
  djangostack.channels.deploy_lock:
    path: /opt/djangostack/deploy.lock
    id: "1234"
    content: |
      id: 1234
      owner: "alice@controller"
    take_over: "{{ lock.held.id }}"
  when: not lock.acquired
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock now (O(state=present)).
  returned: always
  type: bool
held:
  description: The fields of the lock found before this call (empty when there was none).
  returned: always
  type: dict
  sample: {"id": "1234", "owner": "alice@controller"}
released:
  description: Whether the lock was removed (O(state=absent)).
  returned: always
  type: bool
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

# A take-over lock left by a run that died while taking over is removed after this many seconds.
TAKEOVER_TIMEOUT = 60


def read(path):
    """The lock's fields, or {} when there is no lock."""
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


def create(path, content):
    """Create the file with content if it does not exist; False if it does."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


def take_over(path, content, stale_id):
    """Replace a lock that still holds stale_id, under a take-over lock; True if replaced."""
    guard = path + ".takeover"
    try:
        if time.time() - os.stat(guard).st_mtime > TAKEOVER_TIMEOUT:
            os.unlink(guard)
    except FileNotFoundError:
        pass
    if not create(guard, str(os.getpid())):
        return False
    try:
        if read(path).get("id") != stale_id:
            return False
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        return True
    finally:
        os.unlink(guard)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "id": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "content": {"type": "str"},
            "take_over": {"type": "str"},
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

    if ours or module.check_mode:
        module.exit_json(changed=False, acquired=ours or not held, held=held, released=False)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    content = module.params["content"]
    if module.params["take_over"]:
        acquired = take_over(path, content, module.params["take_over"])
    else:
        acquired = create(path, content)
    module.exit_json(
        changed=acquired, acquired=acquired, held=held if held or acquired else read(path), released=False
    )


if __name__ == "__main__":
    main()

# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the check_settings action (plugins/action/check_settings.py): it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: check_settings
short_description: Check a role's settings on the controller, naming every variable that is wrong
description:
  - Runs on the controller, in one task, every check of a role's settings, and fails with the
    message of every check that fails, so that one run names every wrong variable.
  - First the argument specs. The options of the C(main) entry point of the role whose task it is,
    and those of the stack role's C(settings) entry point, are validated as Ansible validates a
    role's arguments. This replaces argument-spec tasks of their own, one per role and play.
  - Then the checks argument_specs cannot express.
  - The role's own rules are booleans with a message. The shared checks are the stack's, for
    port numbers from 1 to 65535, secrets that are not short or well known (only their names are
    ever printed), image references and memory and CPU limits.
  - The shared checks read C(stack_image_pattern), C(stack_memory_pattern),
    C(stack_secret_min_length) and C(stack_secret_weak_values) from the stack role.
version_added: 1.2.0
author: djangostack.channels contributors
options:
  rules:
    description: The role's own checks.
    type: list
    elements: dict
    default: []
    suboptions:
      ok:
        description: Whether the settings pass this check.
        type: bool
        required: true
      msg:
        description: What is wrong, naming the variable and what is allowed.
        type: str
        required: true
  ports:
    description: Variable name to port number.
    type: dict
    default: {}
  secrets:
    description: Variable name to secret. Only the names of weak ones are printed.
    type: dict
    default: {}
  images:
    description: Variable name to image reference.
    type: dict
    default: {}
  memory:
    description: Variable name to memory limit, such as C(512m); C(0) is no limit.
    type: dict
    default: {}
  cpus:
    description: Variable name to CPU limit, such as C(1.5); C(0) is no limit.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Check the Redis settings argument_specs cannot express.
  djangostack.channels.check_settings:
    rules:
      - ok: "{{ redis_disabled_commands | reject('match', '^[A-Za-z][A-Za-z|-]*$') | list | length == 0 }}"
        msg: "redis_disabled_commands must be Redis command names; got {{ redis_disabled_commands }}."
    ports:
      redis_publish_port: "{{ redis_publish_port }}"
    secrets:
      stack_redis_password: "{{ stack_redis_password }}"
    images:
      redis_image: "{{ redis_image }}"
    memory:
      redis_memory: "{{ redis_memory }}"
    cpus:
      redis_cpus: "{{ redis_cpus }}"
"""

RETURN = r"""
msg:
  description: Every failed check's message, one per line; or that all settings are valid.
  returned: always
  type: str
"""

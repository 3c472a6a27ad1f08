"""Lookup plugin: the process ID of the ansible-playbook run on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: controller_pid
author: djangostack
short_description: The process ID of the ansible-playbook run, on the controller
description:
  - Returns the process ID of the run's main process (C(ansible-playbook)), whether the lookup is
    templated in a task's worker (a fork of that process) or in that process itself, as the
    collection's C(mitogen_linear) strategy does for C(set_fact) tasks.
  - The deploy lock records it, so that a later run of the same controller can tell whether the
    run that holds the lock has ended.
options: {}
"""

EXAMPLES = r"""
- name: Name this run.
  ansible.builtin.set_fact:
    run_pid: "{{ lookup('djangostack.channels.controller_pid') }}"
"""

RETURN = r"""
_raw:
  description: The process ID, as the only element.
  type: list
  elements: int
"""

import multiprocessing
import os
from typing import Any

from ansible.plugins.lookup import LookupBase


def controller_pid() -> int:
    """The run's main process: the parent of a worker (a multiprocessing child), else this one."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[int]:
        return [controller_pid()]

# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a role's settings on the controller in one task: see plugins/modules/check_settings.py."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.djangostack.channels.plugins.filter.secrets import weak_secrets

_CPUS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
# The collection's roles: each role's `main` options and the stack role's `settings` are
# validated here, in the one task of the role's validate.yml, instead of by argument-spec tasks of
# their own (a `validate` entry point in the site playbook's check, and the stack role's spec as a
# meta dependency in every play).
_ROLES = Path(__file__).resolve().parents[2] / "roles"


# libyaml's loader when PyYAML has it: each task runs in a new fork of the controller, where the
# cache below starts empty, and the pure-Python loader took 50 ms for the stack role's specs.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def entry_point_options(role_path: str, entry_point: str) -> dict[str, Any]:
    """The options of a role's entry point, from its meta/argument_specs.yml."""
    specs = yaml.load((Path(role_path) / "meta" / "argument_specs.yml").read_text(), Loader=_LOADER)
    return specs["argument_specs"][entry_point].get("options", {})


def _is_port(value: Any) -> bool:
    try:
        return 1 <= int(str(value)) <= 65535 and str(int(str(value))) == str(value).strip()
    except ValueError:
        return False


def settings_errors(
    rules: list[dict[str, Any]],
    ports: dict[str, Any],
    secrets: dict[str, Any],
    images: dict[str, Any],
    memory: dict[str, Any],
    cpus: dict[str, Any],
    stack: dict[str, Any],
) -> list[str]:
    """The message of every check that fails, in order: the role's own rules, then the shared checks.

    `stack` holds the stack role's settings the shared checks use: stack_image_pattern,
    stack_memory_pattern, stack_secret_min_length and stack_secret_weak_values.
    """
    errors = [str(rule["msg"]) for rule in rules if not rule["ok"]]
    bad_ports = {name: value for name, value in ports.items() if not _is_port(value)}
    if bad_ports:
        errors.append(f"Port numbers must be from 1 to 65535; not valid: {bad_ports}.")
    weak = weak_secrets(secrets, int(stack["stack_secret_min_length"]), stack["stack_secret_weak_values"])
    if weak:
        errors.append(
            f"{', '.join(weak)}: each secret must be a string of at least {stack['stack_secret_min_length']}"
            " characters that is not a well-known value (such as 'password' or 'changeme'); generate one,"
            " e.g. with 'openssl rand -base64 32', and keep it in a vault."
        )
    image_pattern = re.compile(stack["stack_image_pattern"])
    bad_images = {name: value for name, value in images.items() if not image_pattern.match(str(value))}
    if bad_images:
        errors.append(
            "Images must be references such as 'mysql:8.4' or 'registry.example.com/app:1.2' (lower-case"
            f" name, no spaces); not valid: {bad_images}."
        )
    memory_pattern = re.compile(stack["stack_memory_pattern"])
    bad_limits = {name: str(value) for name, value in memory.items() if not memory_pattern.match(str(value))}
    bad_limits |= {name: str(value) for name, value in cpus.items() if not _CPUS.match(str(value))}
    if bad_limits:
        errors.append(
            "Memory limits must be sizes such as '512m' or '1g' and CPU limits numbers of CPUs such as 1.5"
            f" (0 means no limit); not valid: {bad_limits}."
        )
    return errors


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("rules", "ports", "secrets", "images", "memory", "cpus"))
    # The stack role's vars (roles/stack/vars/main.yml) the shared checks use, beside its settings.
    _PATTERNS = ("stack_image_pattern", "stack_memory_pattern")

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(
            argument_spec={
                "rules": {
                    "type": "list",
                    "elements": "dict",
                    "default": [],
                    "options": {
                        "ok": {"type": "bool", "required": True},
                        "msg": {"type": "str", "required": True},
                    },
                },
                "ports": {"type": "dict", "default": {}},
                "secrets": {"type": "dict", "default": {}, "no_log": True},
                "images": {"type": "dict", "default": {}},
                "memory": {"type": "dict", "default": {}},
                "cpus": {"type": "dict", "default": {}},
            }
        )
        errors = []
        role = self._task._role
        role_name = role.get_name(include_role_fqcn=False) if role is not None else "stack"
        specs = {"stack": entry_point_options(str(_ROLES / "stack"), "settings")}
        if role_name != "stack":
            specs[role_name] = entry_point_options(role.get_role_path(), "main")
        values: dict[str, dict[str, Any]] = {}
        for name, spec in specs.items():
            values[name] = self._templar.template(
                {option: task_vars[option] for option in spec if option in task_vars}
            )
            errors += [
                f"Settings of the {name} role: {message}"
                for message in ArgumentSpecValidator(spec).validate(values[name]).error_messages
            ]
        # The shared checks use the stack's settings templated above and the patterns of its vars.
        stack = values["stack"] | self._templar.template({name: task_vars[name] for name in self._PATTERNS})
        errors += settings_errors(
            args["rules"], args["ports"], args["secrets"], args["images"], args["memory"], args["cpus"], stack
        )
        result["changed"] = False
        if errors:
            result["failed"] = True
            result["msg"] = "\n".join(errors)
        else:
            result["msg"] = "All settings are valid."
        return result

"""Each role's defaults, argument_specs and README table say the same thing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ROLES = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/meta/argument_specs.yml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def test_role_readme_tables_are_generated_from_argument_specs() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/role_docs.py", "--check"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented_with_the_same_value(role: str) -> None:
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")
    specs = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    options: dict = {}
    for entry_point in reversed(list(specs)):  # main (the stack role: settings) last: it wins
        options |= specs[entry_point].get("options", {})
    for name, value in defaults.items():
        assert name in options, f"{role}: {name} is not in meta/argument_specs.yml"
        documented = options[name].get("default")
        if isinstance(value, str) and "{{" in value:
            continue  # computed defaults are described in words
        assert documented == value, (
            f"{role}: {name} defaults to {value!r} but is documented as {documented!r}"
        )


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_carries_its_role_prefix(role: str) -> None:
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")
    assert all(name.startswith(f"{role}_") for name in defaults), [
        n for n in defaults if not n.startswith(role)
    ]


PLUGINS = sorted(
    path
    for kind in ("modules", "lookup")
    for path in ROOT.glob(f"plugins/{kind}/*.py")
    if path.name != "__init__.py"
)
FILTERS = sorted(ROOT.glob("plugins/filter/*.py"))


def documentation_of(path: Path) -> dict[str, object]:
    """A plugin's DOCUMENTATION, EXAMPLES and RETURN: its strings, or for a filter its YAML sidecar."""
    if path.parent.name == "filter":
        return yaml.safe_load(path.with_suffix(".yml").read_text())
    strings = {
        node.targets[0].id: node.value.value
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    return {
        name: yaml.safe_load(strings[name])
        for name in ("DOCUMENTATION", "EXAMPLES", "RETURN")
        if name in strings
    }


@pytest.mark.parametrize(
    "path", PLUGINS + FILTERS, ids=[f"{path.parent.name}/{path.name}" for path in PLUGINS + FILTERS]
)
def test_every_plugin_has_documentation_examples_and_return(path: Path) -> None:
    """ansible-doc reads these as YAML: a stray ': ' in a sentence hides the whole page."""
    docs = documentation_of(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, path
    documentation = docs["DOCUMENTATION"]
    assert isinstance(documentation, dict)
    assert documentation["short_description"] and documentation["description"], path
    assert docs["EXAMPLES"] and docs["RETURN"], path

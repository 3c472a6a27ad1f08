"""Write each role README's variable table from its meta/argument_specs.yml (the one source).

python scripts/role_docs.py          rewrite the tables
python scripts/role_docs.py --check  exit 1 if a table is out of date (run by the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- BEGIN VARIABLES (scripts/role_docs.py) -->", "<!-- END VARIABLES -->"


def cell(value: Any) -> str:
    text = " ".join(str(value).split())
    for macro in ("C(", "I(", "V(", "O("):
        while macro in text:
            start = text.index(macro)
            end = text.index(")", start)
            text = f"{text[:start]}`{text[start + 2 : end]}`{text[end + 1 :]}"
    return text.replace("|", "\\|")


def table(spec: dict[str, Any]) -> str:
    rows = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, option in spec.get("options", {}).items():
        if option.get("required"):
            default = "**required**"
        elif "default" in option:
            default = (
                f"`{cell(option['default'])}`"
                if option["default"] not in ("", [], {})
                else f"`{option['default']!r}`"
            )
        else:
            default = ""
        kind = option.get("type", "str")
        if option.get("elements"):
            kind += f" of {option['elements']}"
        description = cell(
            " ".join(
                option.get("description", [])
                if isinstance(option.get("description"), list)
                else [option.get("description", "")]
            )
        )
        if option.get("choices"):
            description += " One of: " + ", ".join(f"`{choice}`" for choice in option["choices"]) + "."
        rows.append(f"| `{name}` | {kind} | {default} | {description} |")
    return "\n".join(rows)


def render(readme: str, spec: dict[str, Any]) -> str:
    block = f"{BEGIN}\n{table(spec)}\n{END}"
    if BEGIN in readme:
        before, rest = readme.split(BEGIN, 1)
        return before + block + rest.split(END, 1)[1]
    return readme.rstrip("\n") + "\n\n## Variables\n\n" + block + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for specs in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = specs.parents[1]
        entry_points = yaml.safe_load(specs.read_text())["argument_specs"]
        spec = entry_points["main"]
        path = role / "README.md"
        current = (
            path.read_text() if path.exists() else f"# {role.name}\n\n{spec.get('short_description', '')}\n"
        )
        wanted = render(current, spec)
        if wanted != current:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(wanted)
    if check and stale:
        print("out of date (run python scripts/role_docs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The config_files module: one call converges directories and files, tested before they go live."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from module_runner import run_module


def config_files(args: dict[str, Any], *extra: str) -> dict[str, Any]:
    return run_module("config_files", args, *extra)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def layout(root: Path, content: str = "listen 80;\n", validate: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "directories": [
            {"path": str(root / "conf"), "mode": "0755"},
            {"path": str(root / "conf" / "secrets"), "mode": "0700"},
        ],
        "files": [
            {"dest": str(root / "conf" / "site.conf"), "content": content, "mode": "0644"},
            {"dest": str(root / "conf" / "secrets" / "password"), "content": "s3cret", "mode": "0600"},
        ],
    }
    if validate:
        args |= {"validate": validate, "validate_root": str(root / "conf")}
    return args


def test_it_creates_then_changes_nothing(tmp_path: Path) -> None:
    first = config_files(layout(tmp_path))
    assert first["changed"] is True
    assert len(first["changed_paths"]) == 4
    assert (tmp_path / "conf" / "site.conf").read_text() == "listen 80;\n"
    assert mode(tmp_path / "conf" / "secrets") == 0o700
    assert mode(tmp_path / "conf" / "secrets" / "password") == 0o600
    second = config_files(layout(tmp_path))
    assert second["changed"] is False and second["changed_paths"] == []


def test_it_names_what_changed_content_or_mode(tmp_path: Path) -> None:
    config_files(layout(tmp_path))
    (tmp_path / "conf" / "secrets" / "password").chmod(0o644)
    result = config_files(layout(tmp_path, content="listen 81;\n"))
    assert result["changed_paths"] == [
        str(tmp_path / "conf" / "site.conf"),
        str(tmp_path / "conf" / "secrets" / "password"),
    ]
    assert (tmp_path / "conf" / "site.conf").read_text() == "listen 81;\n"
    assert mode(tmp_path / "conf" / "secrets" / "password") == 0o600


def test_check_mode_reports_without_writing(tmp_path: Path) -> None:
    result = config_files(layout(tmp_path), "--check")
    assert result["changed"] is True
    assert not (tmp_path / "conf").exists()


def test_validation_sees_every_new_file_and_a_failure_changes_nothing(tmp_path: Path) -> None:
    config_files(layout(tmp_path))
    # The command sees the staging directory laid out like validate_root.
    seen = tmp_path / "seen"
    check = f"sh -c 'cat %s/site.conf %s/secrets/password > {seen}'"
    assert config_files(layout(tmp_path, content="listen 82;\n", validate=check))["changed"] is True
    assert seen.read_text() == "listen 82;\ns3cret"

    failing = "sh -c 'grep -q good %s/site.conf'"
    result = config_files(layout(tmp_path, content="bad\n", validate=failing))
    assert result.get("failed") is True
    assert "failed validation" in result["msg"] and "nothing was changed" in result["msg"]
    assert (tmp_path / "conf" / "site.conf").read_text() == "listen 82;\n"


def test_validation_runs_only_when_content_changes(tmp_path: Path) -> None:
    config_files(layout(tmp_path))
    result = config_files(layout(tmp_path, validate="false"))
    assert result["changed"] is False and not result.get("failed")


def test_diff_shows_each_file_whose_content_changes(tmp_path: Path) -> None:
    config_files(layout(tmp_path))
    result = config_files(layout(tmp_path, content="listen 8080;\n"), "--check", "--diff")
    assert result["changed"] is True
    assert result["diff"] == [
        {
            "before_header": str(tmp_path / "conf" / "site.conf"),
            "after_header": str(tmp_path / "conf" / "site.conf"),
            "before": "listen 80;\n",
            "after": "listen 8080;\n",
        }
    ]
    assert (tmp_path / "conf" / "site.conf").read_text() == "listen 80;\n"  # check mode wrote nothing

"""Make the helpers the scenarios share (molecule/common) importable."""

import sys
from collections.abc import Generator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each phase's report on its test (item.rep_call, ...): the browser fixture keeps screenshots of a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report

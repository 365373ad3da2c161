"""The conformance suite as a pytest plugin: ``pytest --hce-check PLUGIN``.

Adds one test item per check for each plugin named on the command line — no
test file needed::

    pytest -p hcekit.conformance.pytest_plugin --hce-check my_card
    pytest -p hcekit.conformance.pytest_plugin --hce-check mypkg.card:MyCard --hce-check-only select

(hcekit's own pytest plugin loads this one, so ``-p`` is only needed where
that is disabled.) Items are named ``hce-check::PLUGIN::CHECK`` and run after
the collected tests; they work with ``-k`` and pytest-xdist.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from . import CHECKS, run_check

__all__ = ["ConformanceItem", "pytest_addoption", "pytest_collection_modifyitems"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--hce-check PLUGIN`` and ``--hce-check-only CHECK`` to pytest."""
    group = parser.getgroup("hcekit", "hcekit card plugins")
    group.addoption("--hce-check", action="append", default=[], metavar="PLUGIN",
                    help="run hcekit's conformance suite against PLUGIN (installed name or "
                         "module:attr); repeatable")
    group.addoption("--hce-check-only", action="append", default=[], metavar="CHECK",
                    help=f"with --hce-check: only these checks ({', '.join(CHECKS)})")


class ConformanceItem(pytest.Item):
    """One conformance check against one plugin."""

    def __init__(self, *, plugin: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin
        self.check = check

    def runtest(self) -> None:
        with tempfile.TemporaryDirectory(prefix="hcekit-check-") as tmp:
            result = run_check(self.plugin, self.check, Path(tmp))
        if result.status == "skipped":
            pytest.skip(result.detail)
        if result.status == "failed":
            raise _CheckFailure(result.detail)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, _CheckFailure):
            return f"{self.plugin}: conformance check {self.check!r} failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "hce-check", None, f"{self.plugin}::{self.check}"


class _CheckFailure(Exception):
    pass


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those apply to these items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Add the conformance checks of ``--hce-check`` plugins to the session."""
    plugins: list[str] = config.getoption("hce_check", default=[]) or []
    if not plugins:
        return
    only: list[str] = config.getoption("hce_check_only", default=[]) or []
    unknown = [c for c in only if c not in CHECKS]
    if unknown:
        raise pytest.UsageError(f"--hce-check-only: no check named {', '.join(unknown)}; "
                                f"checks: {', '.join(CHECKS)}")
    for plugin in plugins:
        for check in only or CHECKS:
            items.append(ConformanceItem.from_parent(
                session, name=f"hce-check::{plugin}::{check}", plugin=plugin, check=check))

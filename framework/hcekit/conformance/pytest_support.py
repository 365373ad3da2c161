"""The conformance suite as pytest tests, for a plugin project's own test run.

In a plugin's ``tests/test_conformance.py``::

    from hcekit.conformance.pytest_support import conformance_tests

    test_conformance = conformance_tests("my_plugin:MyCard")   # or an installed name

gives one test per check (``test_conformance[select]`` …) that fails with the
check's explanation and skips, saying why, where a check does not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..plugins import PluginSpec
from . import CHECKS, run_check

__all__ = ["conformance_tests", "assert_conforms"]


def assert_conforms(plugin: PluginSpec, check: str, tmp_path: Path) -> None:
    """Run one check; ``pytest.fail``/``pytest.skip`` with its explanation."""
    result = run_check(plugin, check, tmp_path)
    if result.status == "skipped":
        pytest.skip(f"{check}: {result.detail}")
    if result.status == "failed":
        pytest.fail(f"conformance check {check!r} failed:\n{result.detail}", pytrace=False)


def conformance_tests(plugin: PluginSpec) -> Callable[[str, Path], None]:
    """A test function parametrised over every conformance check, for *plugin*."""

    @pytest.mark.parametrize("check", list(CHECKS))
    def test_conformance(check: str, tmp_path: Path) -> None:
        assert_conforms(plugin, check, tmp_path)

    return test_conformance

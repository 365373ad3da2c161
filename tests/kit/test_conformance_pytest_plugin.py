"""`pytest --hce-check PLUGIN`: conformance items without a test file, -k applies to them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import sample_plugins

# The directory holding the top-level package of sample_plugins (tests.kit.… → the repo root).
PACKAGE_PARENT = str(Path(sample_plugins.__file__).resolve()
                     .parents[sample_plugins.__name__.count(".")])


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "hcekit.conformance.pytest_plugin",
         "-p", "no:cacheprovider", "-q", "-rA", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_good_plugin_items_pass(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--hce-check", f"{sample_plugins.__name__}:GoodCard")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
    assert f"PASSED ::hce-check::{sample_plugins.__name__}:GoodCard::restart" in run.stdout


def test_sloppy_plugin_items_fail_with_explanations_and_k_selects(tmp_path: Path) -> None:
    spec = f"{sample_plugins.__name__}:SloppyCard"
    run = _pytest(tmp_path, "--hce-check", spec, "-k", "restart or secrets")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 failed, 6 deselected" in run.stdout
    assert "conformance check 'restart' failed" in run.stdout and "keys boots" in run.stdout
    assert "store key 'master_key'" in run.stdout


def test_unknown_check_is_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--hce-check", "ndef", "--hce-check-only", "nope")
    assert run.returncode == 4 and "no check named nope" in run.stderr

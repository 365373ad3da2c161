"""The Android JVM tests at every API level the harness runs, not only this process's.

pyjnius starts one JVM per process, and Robolectric one framework level per
sandbox: so the other levels run the same tests in a fresh pytest process
each (``HCEKIT_ANDROID_API``), with the JDK the level needs (Java 21+ for 36).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit_android import robolectric

ANDROID_TESTS = Path(__file__).resolve().parent
OTHER_LEVELS = [api for api in sorted(robolectric.API_LEVELS)
                if api != robolectric.DEFAULT_API_LEVEL]

pytestmark = [pytest.mark.jvm, pytest.mark.slow]


@pytest.mark.parametrize("api", OTHER_LEVELS)
def test_the_android_tests_pass_at_api(api: int, tmp_path: Path) -> None:
    if os.environ.get("HCEKIT_ANDROID_API"):
        pytest.skip("this process already runs one level chosen by HCEKIT_ANDROID_API")
    env = dict(os.environ, HCEKIT_ANDROID_API=str(api))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(ANDROID_TESTS), "-q", "-p", "no:cacheprovider",
         f"--ignore={Path(__file__).resolve()}",
         "--basetemp", str(tmp_path / "pytest")],
        capture_output=True, text=True, env=env, check=False, timeout=900)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, f"API {api}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " passed" in summary, f"API {api} ran nothing: {summary}"
    print(f"API {api}: {summary}")

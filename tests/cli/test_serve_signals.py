"""``hcekit serve`` stops on SIGINT and SIGTERM, also when started in the background of a
shell script, where SIGINT arrives already ignored (bash does that for '&' jobs)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hcekit.testing.pcsc import free_port_block


def _hcekit() -> str:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    return exe or f"{sys.executable} -m hcekit.cli"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_started_with_ampersand_stops_on_signal(sig: signal.Signals, tmp_path: Path) -> None:
    port = free_port_block(1)
    pid_file = tmp_path / "serve.pid"
    # No pcscd is needed: serve keeps running while it waits for vpcd.
    script = (f"{_hcekit()} serve --port {port} --no-installed --store :memory: "
              f"> {tmp_path / 'out'} 2>&1 & echo $! > {pid_file}; wait")
    shell = subprocess.Popen(["bash", "-c", script])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Ctrl-C" not in _read(tmp_path / "out"):
            time.sleep(0.05)
        assert "Ctrl-C to stop" in _read(tmp_path / "out"), _read(tmp_path / "out")
        serve_pid = int(pid_file.read_text())
        subprocess.run(["kill", f"-{sig.name[3:]}", str(serve_pid)], check=True)
        assert shell.wait(timeout=20) == 0
        assert "hcekit: stopped" in _read(tmp_path / "out")
    finally:  # never leave a serve behind, whatever failed
        if pid_file.exists() and pid_file.read_text().strip():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        if shell.poll() is None:
            shell.kill()
        shell.wait()


def test_premise_a_background_job_starts_with_sigint_ignored(tmp_path: Path) -> None:
    """What the test above relies on: bash hands '&' jobs SIGINT as ignored."""
    pid_file = tmp_path / "sleep.pid"
    shell = subprocess.Popen(["bash", "-c", f"sleep 30 & echo $! > {pid_file}; wait"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not pid_file.exists():
            time.sleep(0.02)
        time.sleep(0.1)
        assert _sigint_ignored(int(pid_file.read_text()))
    finally:
        subprocess.run(["pkill", "-P", str(shell.pid)], check=False)
        shell.kill()
        shell.wait()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _sigint_ignored(pid: int) -> bool:
    """Whether *pid* inherited SIGINT as ignored (SigIgn mask in /proc, bit 2)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


def test_serve_default_port_follows_the_environment(tmp_path: Path) -> None:
    """$HCEKIT_VPCD_PORT is serve's default port (a vpcd configured elsewhere); checked."""
    port = free_port_block(1)
    env = {**os.environ, "HCEKIT_VPCD_PORT": str(port)}
    process = subprocess.Popen([*_hcekit().split(), "serve", "--no-installed", "--store", ":memory:"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        out = ""
        assert process.stdout is not None
        while time.monotonic() < deadline and "Ctrl-C" not in out:
            out += process.stdout.readline()
        assert f"vpcd 127.0.0.1:{port}" in out, out
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    bad = subprocess.run([*_hcekit().split(), "serve", "--no-installed", "--store", ":memory:"],
                         env={**os.environ, "HCEKIT_VPCD_PORT": "99999"}, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "$HCEKIT_VPCD_PORT" in bad.stderr and "1 to 65535" in bad.stderr

"""The hcekit command line, run in-process and once as the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit.cli import main

HERE = Path(__file__).parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("plugins", "demo", "send", "tap"):
        assert command in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, )
    assert code == 2 and "usage" in out


def test_send_prints_each_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "send", "00A4040007D276000085010100", "00A4000C02E103", "00B000000F",
                    "00B0FFFF01")
    assert code == 0
    assert "<< 00 0F 20" in out  # the capability container
    assert "WRONG_P1P2" not in out and "INCORRECT_P1P2" in out


def test_send_rejects_bad_hex(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["send", "00A4ZZ"])
    assert "not hex" in capsys.readouterr().err


def test_plugins_reports_conflicts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(capsys, "plugins")
    assert code == 0 and "D2760000850101" in out and "no conflicts" in out
    monkeypatch.syspath_prepend(str(HERE))
    code, out = run(capsys, "plugins", "--plugin", "tests.cli.conflicting_plugin:Squatter")
    assert code == 1
    assert "CONFLICT: ndef claims D2760000850101, squatter claims D276000085*" in out


def test_tap_lists_and_runs_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "tap")
    assert code == 0 and "ndef-read" in out
    code, out = run(capsys, "tap", "ndef-read", "--option", "ndef.url=https://example.org/t")
    assert code == 0 and "URI  https://example.org/t" in out
    code = main(["tap", "no-such-script"])
    assert code == 2
    assert "no terminal script named 'no-such-script'" in capsys.readouterr().err


def test_demo_console_script_runs_every_demo_script() -> None:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    assert exe is not None, "the hcekit console script is not installed in this environment"
    proc = subprocess.run([exe, "demo"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== ndef-read: ok" in proc.stdout
    assert ">> 00 A4 04 00 07 D2 76 00 00 85 01 01" in proc.stdout

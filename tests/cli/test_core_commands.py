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


def test_plugins_reports_a_claim_on_the_cores_ppse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core's PPSE is on every card with a payment AID: a listing checks against it too,
    even when no payment plugin is listed (it may be installed next to this one)."""
    monkeypatch.syspath_prepend(str(HERE))
    code, out = run(capsys, "plugins", "--no-installed",
                    "--plugin", "conflicting_plugin:PpseSquatter")
    assert code == 1
    assert ("CONFLICT: ppse_squatter claims 325041592E5359532E4444463031, "
            "ppse claims 325041592E5359532E4444463031") in out


def test_plugins_only_lists_the_named_installed_plugins(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plugins", "--only", "ndef")
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]
    assert listed[:2] == ["ndef", "ppse"]
    assert out.splitlines()[-1] == "1 plugin(s), 2 claim(s) with the core's, no conflicts"
    assert main(["plugins", "--only", "nope"]) == 2  # a refused value (issue 31)
    assert "no installed plugin named nope" in capsys.readouterr().err


def test_tap_lists_and_runs_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "tap")
    assert code == 0 and "ndef-read" in out
    code, out = run(capsys, "tap", "ndef-read", "--option", "ndef.url=https://example.org/t")
    assert code == 0 and "URI  https://example.org/t" in out
    code = main(["tap", "no-such-script"])
    assert code == 2
    assert "no terminal script named 'no-such-script'" in capsys.readouterr().err


def test_tap_records_a_trace_that_replays(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    trace = tmp_path / "tap.trace"
    store = str(tmp_path / "card.sqlite")
    code, _ = run(capsys, "tap", "ndef-read", "--only", "ndef", "--store", store,
                  "--record", str(trace))
    assert code == 0
    lines = trace.read_text().splitlines()
    assert lines[2].endswith("field on") and lines[-1].endswith("field off LINK_LOSS")
    assert ">> 00 A4 04 00 07 D2 76 00 00 85 01 01 00" in lines[3]
    code, out = run(capsys, "replay", str(trace), "--only", "ndef", "--store", store)
    assert code == 0 and "0 differ" in out
    assert main(["tap", "ndef-read", "--only", "ndef", "--record", str(trace)]) == 1
    assert "--record" in (err := capsys.readouterr().err) and "--force" in err
    assert main(["tap", "ndef-read", "--reader", "0", "--record", str(tmp_path / "r")]) == 2
    assert "with --reader the card is the one in the reader" in capsys.readouterr().err


def test_demo_store_runs_the_scripts_against_a_personalised_card(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = str(tmp_path / "transit.sqlite")
    assert main(["transit", "personalize", "--store", store, "--uid", "04112233445566",
                 "--balance", "1234"]) == 0
    code, out = run(capsys, "demo", "--only", "transit", "--store", store)
    assert code == 0 and "(UID 04112233445566)" in out and "balance 12.34;" in out
    code, out = run(capsys, "demo", "--only", "transit", "--store", store)
    assert "balance 9.64;" in out  # the first demo's fare stayed on the card
    code, out = run(capsys, "demo", "--only", "transit")
    assert code == 0 and "04112233445566" not in out  # default: a fresh TEST card


def test_demo_console_script_runs_every_demo_script() -> None:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    assert exe is not None, "the hcekit console script is not installed in this environment"
    proc = subprocess.run([exe, "demo"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== ndef-read: ok" in proc.stdout
    assert ">> 00 A4 04 00 07 D2 76 00 00 85 01 01" in proc.stdout

"""The ``mrtd-read`` terminal script: what an inspection system prints, and how it fails."""

from __future__ import annotations

import io

import pytest
from hcekit.terminal import ScriptContext
from hcekit.terminal.script import ScriptOptionError, check_options
from hcekit_mrtd import SPECIMEN, MrtdPlugin

from .conftest import Rig


def run(options: dict[str, str] | None = None, rig: Rig | None = None) -> tuple[int, str]:
    rig = rig or Rig()
    script = MrtdPlugin().hcekit_terminal_scripts()[0]
    check_options(script, options or {})
    out = io.StringIO()
    with rig.terminal.tap():
        rc = script.run(ScriptContext(rig.terminal, options or {}, out))
    return rc, out.getvalue()


def test_demo_reads_the_specimen_with_zero_configuration() -> None:
    script = MrtdPlugin().hcekit_terminal_scripts()[0]
    assert script.name == "mrtd-read" and script.demo
    rc, out = run()
    assert rc == 0, out
    for line in SPECIMEN.lines:
        assert line in out
    assert "Surname:         ERIKSSON" in out and "Date of birth:   740812" in out
    assert "data groups DG1, DG2" in out and "TEST placeholder" in out
    assert "TEST specimen" in out


@pytest.mark.parametrize("options", [
    {"mrz": SPECIMEN.lines[1]},
    {"mrz": SPECIMEN.bac_information},
    {"doc": "L898902C3", "dob": "740812", "expiry": "120415"},
])
def test_mrz_options(options: dict[str, str]) -> None:
    rc, out = run(options)
    assert rc == 0 and "L898902C36UTO7408122F1204159ZE184226B<<<<<10" in out, out


def test_wrong_mrz_is_reported_not_raised() -> None:
    rc, out = run({"doc": "L898902C3", "dob": "740812", "expiry": "130415"})
    assert rc == 1
    assert "Access denied" in out and "6300" in out and "Traceback" not in out
    assert "ERIKSSON" not in out


@pytest.mark.parametrize(("options", "message"), [
    ({"mrz": "L898902C3774081221204159"}, "check digit"),
    ({"mrz": "short"}, "24 characters"),
    ({"doc": "L898902C3"}, "all three"),
    ({"doc": "L898902C3", "dob": "1974-08-12", "expiry": "120415"}, "YYMMDD"),
])
def test_bad_mrz_input_is_explained(options: dict[str, str], message: str) -> None:
    rc, out = run(options)
    assert rc == 2 and "Bad MRZ" in out and message in out, out


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ScriptOptionError, match="no option passport"):
        run({"passport": "x"})

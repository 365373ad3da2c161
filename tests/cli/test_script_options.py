"""Terminal-script options: declared names, typed getters, precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit.cli import main
from hcekit.terminal import ScriptContext, ScriptOptionError, TerminalScript, check_options
from hcekit.testing import loopback_rig


def ctx(**options: str) -> ScriptContext:
    return ScriptContext(loopback_rig().terminal, options)


def test_integer_choice_listing_path(tmp_path: Path) -> None:
    c = ctx(n="0x10", mode="in", ids="1, 2,,3", f=str(tmp_path / "k.pem"))
    assert c.integer("n", 5, minimum=1) == 16
    assert c.integer("absent", 5) == 5
    assert c.choice("mode", ("in", "out"), "out") == "in"
    assert c.listing("ids") == ["1", "2", "3"]
    with pytest.raises(ScriptOptionError, match=r"option f=.*k.pem: no such file"):
        c.path("f")
    (tmp_path / "k.pem").write_text("x")
    assert c.path("f") == tmp_path / "k.pem"


@pytest.mark.parametrize(("options", "message"), [
    ({"n": "abc"}, "option n='abc': not an integer"),
    ({"n": "0"}, "option n=0: at least 1"),
    ({"n": "1000"}, "option n=1000: at most 99"),
])
def test_integer_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(ScriptOptionError, match=message):
        ctx(**options).integer("n", 5, minimum=1, maximum=99)


def test_choice_error_lists_choices() -> None:
    with pytest.raises(ScriptOptionError, match="one of in, out"):
        ctx(mode="sideways").choice("mode", ("in", "out"), "in")


def test_undeclared_options_are_refused_and_a_script_declaring_none_takes_none() -> None:
    declared = TerminalScript("s", "d", lambda c: 0, options={"amount": "help"})
    check_options(declared, {"amount": "1"})
    with pytest.raises(ScriptOptionError, match=r"script s has no option b \(it takes: amount\)"):
        check_options(declared, {"b": "1"})
    with pytest.raises(ScriptOptionError, match=r"no option amuont \(did you mean 'amount'\?\)"):
        check_options(declared, {"amuont": "1"})
    check_options(TerminalScript("bare", "d", lambda c: 0), {})
    with pytest.raises(ScriptOptionError, match=r"script bare has no option anything \(it takes: none\)"):
        check_options(TerminalScript("bare", "d", lambda c: 0), {"anything": "1"})


def test_cli_reports_bad_script_options_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tap", "ndef-read", "-s", "bogus=1"]) == 2
    err = capsys.readouterr().err
    assert "script ndef-read has no option bogus" in err
    assert "Traceback" not in err


def test_cli_turns_unexpected_errors_into_one_line(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    missing = tmp_path / "nope.trace"
    code = main(["replay", str(missing)])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err and "nope.trace" in err

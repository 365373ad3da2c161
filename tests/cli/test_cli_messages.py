"""CLI messages: one ``hcekit: error:`` line, no raw exception names, exit 2 for refused values.

Issue 31 item 12.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit.cli import main


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HCEKIT_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


def _one_error(argv: list[str], capsys: pytest.CaptureFixture[str], code: int) -> str:
    got = main(argv)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert got == code, (argv, out, err)
    assert len(lines) == 1 and lines[0].startswith("hcekit: error: "), (argv, err)
    assert "Error:" not in lines[0] and "Errno" not in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("argv,where", [
    (["trace", "export", "missing.trace", "-o", "x.pcapng"], "missing.trace"),
    (["trace", "import", "missing.pcapng", "-o", "x.trace"], "missing.pcapng"),
    (["transit", "keygen", "no/such/dir/keys.json"], "keys.json"),
    (["fuzz", "--reproduce", "missing.bin", "ndef"], "missing.bin"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_missing_file_is_named_without_the_exception_class(
        argv: list[str], where: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error(argv, capsys, 1)
    assert where in line and "No such file or directory" in line


def test_new_into_a_file_says_it_is_not_a_directory(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("x")
    line = _one_error(["new", "plugin", "my_card", "--dir", "afile/sub"], capsys, 1)
    assert "Not a directory" in line


@pytest.mark.parametrize("argv,what", [
    (["transit", "personalize", "--store", ":memory:", "--card-number", "-5"], "--card-number"),
    (["transit", "personalize", "--store", ":memory:", "--card-number", str(2**64)],
     "--card-number"),
    (["access", "personalize", "--store", ":memory:", "--days", "99999999999"], "--days"),
    (["access", "personalize", "--store", ":memory:", "--label", ""], "--label"),
    (["access", "personalize", "--store", ":memory:", "--subject", ""], "--subject"),
    (["tap", "ndef-read", "--store", ""], "--store"),
    (["access", "personalize", "--store", ""], "--store"),
    # no option takes an empty value (CommandLineParser): an unset shell variable, usually
    (["demo", "--store", ":memory:", "--record", ""], "--record"),
    (["demo", "--store", ":memory:", "--pcap", " "], "--pcap"),
    (["serve", "--store", ":memory:", "--address", ""], "--address"),
    (["aliro", "reader", "--reader", ""], "--reader"),
    (["payment", "personalize", "--store", ":memory:", "--name", ""], "--name"),
    (["tap", "ndef-read", "-s", ""], "-s/--script-option"),
    (["tap", ""], "script"),
    (["trace", "export", ""], "FILE.trace"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_argument_types_refuse_out_of_range_and_empty_values(
        argv: list[str], what: str, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's own usage error: exit 2, the option named, no exception class."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"error: argument {what}: " in err.splitlines()[-1]
    assert "Error" not in err and "too large" not in err
    assert not Path("data").exists() and not list(Path().glob("*.lock")), "refused, yet wrote"


@pytest.mark.parametrize("argv,what", [
    (["new", "plugin", "Bad Name"], "Bad Name"),
    (["fuzz", "nosuchtarget"], "nosuchtarget"),
    (["check", "--check", "nosuchcheck", "ndef"], "nosuchcheck"),
    (["tap", "ndef-read", "--option", "ndef.url="], "ndef.url"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_refused_values_exit_2_with_one_line(argv: list[str], what: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error(argv, capsys, 2)
    assert what in line

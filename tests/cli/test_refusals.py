"""A refused command line touches nothing: no store, no folder; one line on stderr, exit 2.

Issue 31 item 4: ``hcekit tap SCRIPT -s BAD`` used to create and
self-personalise the default store before the script refused its option
(on stdout, exit 1); ``--option``/``--plugin`` errors created the data folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit.cli import main


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("HCEKIT_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], data_home: Path) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert out == "", (argv, out)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hcekit: error: "), (argv, err)
    assert not data_home.exists(), f"{argv} created {data_home}"
    return lines[0]


BAD_SCRIPT_OPTIONS = [
    ["payment-pos", "-s", "amount=lots"],
    ["payment-pos", "-s", "request=maybe"],
    ["payment-pos", "-s", "online=perhaps"],
    ["payment-pos", "-s", "imk-file=/no/such/file"],
    ["payment-pos", "-s", "imk=00112233445566778899AABBCCDDEEFF"],
    ["payment-pos", "-s", "flow=sideways"],
    ["loyalty-till", "-s", "points=ten"],
    ["loyalty-till", "-s", "op=steal"],
    ["loyalty-till", "-s", "key_version=x"],
    ["transit-gate", "-s", "station=nowhere"],
    ["transit-gate", "-s", "direction=sideways"],
    ["transit-gate", "-s", "hotlist=a,b"],
    ["transit-topup", "-s", "amount=-5"],
    ["transit-demo", "-s", "time=yesterday"],
    ["transit-demo", "-s", "keys=/no/such/file"],
    ["aliro-reader", "-s", "step_up=maybe"],
    ["access-door", "-s", "allow-file=/no/such/file"],
    ["ndef-read", "-s", "nope=1"],
]


@pytest.mark.parametrize("argv", BAD_SCRIPT_OPTIONS, ids=lambda a: " ".join(a))
def test_a_bad_script_option_is_refused_before_the_store(
        argv: list[str], capsys: pytest.CaptureFixture[str], data_home: Path) -> None:
    line = _refused(["tap", *argv], capsys, data_home)
    assert argv[-1].partition("=")[0] in line


@pytest.mark.parametrize("argv", [
    ["tap", "ndef-read", "--option", "ndef.nosuch=1"],
    ["tap", "ndef-read", "--option", "novalue"],
    ["tap", "ndef-read", "--option", "nosuchplugin.key=1"],
    ["tap", "ndef-read", "--plugin", "no_such_module_anywhere:thing"],
    ["tap", "ndef-read", "--plugin", "json:dumps"],
    ["tap", "ndef-read", "--only", "nosuchplugin"],
    ["tap", "no-such-script"],
    ["send", "--option", "ndef.nosuch=1", "00A4040007D276000085010100"],
], ids=lambda a: " ".join(a))
def test_card_option_errors_are_refused_before_the_store(
        argv: list[str], capsys: pytest.CaptureFixture[str], data_home: Path) -> None:
    _refused(argv, capsys, data_home)


def test_a_plugin_without_hcekit_hooks_is_named(capsys: pytest.CaptureFixture[str],
                                                 data_home: Path) -> None:
    line = _refused(["tap", "ndef-read", "--plugin", "json:dumps"], capsys, data_home)
    assert "no hcekit hook" in line

"""Bad command-line input gets one precise line, never a traceback or a silently wrong run."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hcekit import Card
from hcekit.cli import EXIT_BROKEN_PIPE, main
from hcekit.cli.arguments import (
    OutputExistsError,
    calendar_date,
    open_output,
    positive_seconds,
    tcp_port,
)
from hcekit.hosts.vpcd import VpcdHost

NDEF_SELECT = "00A4040007D276000085010100"


def _hcekit() -> list[str]:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hcekit.cli"]


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "0", "-1", "1e400", "soon"])
def test_serve_deadline_must_be_finite_and_positive(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    err = _usage_error(capsys, "serve", "--store", ":memory:", f"--deadline={value}")
    assert "--deadline" in err
    assert "seconds" in err


@pytest.mark.parametrize("value", ["0", "-1", "65536", "99999", "http", "35963.5"])
def test_serve_port_must_be_a_tcp_port(capsys: pytest.CaptureFixture[str], value: str) -> None:
    err = _usage_error(capsys, "serve", "--store", ":memory:", f"--port={value}")
    assert "--port" in err
    assert "port" in err.splitlines()[-1]


def test_argument_types_accept_the_good_values() -> None:
    assert positive_seconds("0.5") == 0.5
    assert tcp_port("1") == 1 and tcp_port("65535") == 65535
    parse = calendar_date("%Y%m%d", "20291231")
    assert parse("20291231") == date(2029, 12, 31)
    for bad in ("2099", "20290230", "2029123", "202912310", "2029-12-31"):
        with pytest.raises(argparse.ArgumentTypeError, match="20291231"):
            parse(bad)


def test_the_host_refuses_what_the_cli_refuses() -> None:
    card = Card([])
    for deadline in (math.nan, math.inf, 0.0, -2.0):
        with pytest.raises(ValueError, match="deadline"):
            VpcdHost(card, deadline=deadline)
    for port in (0, -1, 65536):
        with pytest.raises(ValueError, match="port"):
            VpcdHost(card, port)


def test_replay_of_a_binary_file_is_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    result = subprocess.run([*_hcekit(), "replay", str(binary)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"hcekit: error: {binary}: not an hcekit trace: not UTF-8 text")
    assert "UnicodeDecodeError" not in result.stderr


def test_replay_of_a_missing_or_foreign_text_file(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    assert main(["replay", str(tmp_path / "nope.trace")]) == 1
    assert "cannot read: No such file or directory" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    assert main(["replay", str(notes)]) == 1
    assert "is this an hcekit trace file?" in capsys.readouterr().err


def test_demo_record_keeps_an_existing_file_unless_forced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "kept.trace"
    trace.write_text("precious\n")
    assert main(["demo", "--only", "ndef", "--quiet", "--record", str(trace)]) == 1
    err = capsys.readouterr().err
    assert f"--record {trace}: the file exists; add --force to overwrite it" in err
    assert trace.read_text() == "precious\n"
    assert main(["demo", "--only", "ndef", "--quiet", "--record", str(trace), "--force"]) == 0
    assert trace.read_text().startswith("# hcekit trace 1\n")
    assert ">> 00 A4 04 00 07 D2 76 00 00 85 01 01" in trace.read_text()


def test_serve_record_keeps_an_existing_file(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    first, second = tmp_path / "s.trace.35963", tmp_path / "s.trace.35964"
    second.write_text("precious\n")
    code = main(["serve", "--no-installed", "--store", ":memory:", "--port", "35963",
                 "--port", "35964", "--record", str(tmp_path / "s.trace")])
    assert code == 1
    assert "the file exists; add --force" in capsys.readouterr().err
    assert second.read_text() == "precious\n"
    assert not first.exists()  # nothing half-made left behind


def test_open_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.xml"
    with open_output(target, force=False) as out:
        out.write("one")
    with pytest.raises(OutputExistsError, match=r"-o .*out\.xml: the file exists; add --force"):
        open_output(target, force=False)
    with open_output(target, force=True) as out:
        out.write("two")
    assert target.read_text() == "two"
    with open_output("-", force=False) as out:
        out.write("to stdout")
    assert capsys.readouterr().out == "to stdout"
    assert not sys.stdout.closed


def test_a_closed_pipe_ends_quietly() -> None:
    # > 64 kB of output, so the writer outlives the pipe buffer after head exits
    apdus = [NDEF_SELECT] * 2000
    command = " ".join([*_hcekit(), "send", "--only", "ndef", *apdus])
    result = subprocess.run(["bash", "-c", f"{command} | head -2; exit ${{PIPESTATUS[0]}}"],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.count("\n") == 2
    assert result.stderr == ""
    assert result.returncode == EXIT_BROKEN_PIPE


@pytest.mark.parametrize(("argv", "unbuffered"), [
    # 20 kB, most of it trace lines: the first 8 kB flush comes from inside the card
    (["demo"], False),
    # unbuffered, the first line written is the first exchange, printed by the card
    (["tap", "--store", ":memory:", "--only", "payment", "--trace", "payment-pos"], True),
], ids=["demo", "tap"])
def test_printing_from_inside_the_card_to_a_closed_pipe_ends_quietly(
    argv: list[str], unbuffered: bool
) -> None:
    """These print from a trace observer, whose errors the card swallows and logs."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: EPIPE for sure
    env = {**os.environ, "PYTHONUNBUFFERED": "1" if unbuffered else ""}
    try:
        result = subprocess.run([*_hcekit(), *argv], stdout=write_end, stderr=subprocess.PIPE,
                                text=True, timeout=300, env=env)
    finally:
        os.close(write_end)
    assert "Error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode == EXIT_BROKEN_PIPE


@pytest.mark.parametrize("option", ["--seconds=nan", "--seconds=inf", "--seconds=0", "--runs=0",
                                    "--runs=-5", "--max-len=0", "--max-len=many"])
def test_fuzz_budgets_are_checked(capsys: pytest.CaptureFixture[str], option: str) -> None:
    err = _usage_error(capsys, "fuzz", "core", option)
    assert option.split("=")[0] in err

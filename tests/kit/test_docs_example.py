"""The complete card at the end of docs/plugin-authoring.md, beyond what the page shows.

The docs runner (tests/docs) runs the page's session and compares the outputs
it quotes. Here the same files (every fenced block with a ``title="PATH"``)
are installed in a fresh project with a throwaway venv first on PATH, to check
what the page states but does not show: the ATR it names, built here from
PC/SC part 3 (TS, T0, TD1, TD2, historical bytes, TCK = XOR of T0…); that a
wrong issuer key is caught; that the issuer key is never printed; that the
example passes strict mypy and ruff; and that its modules import no circle.
"""

from __future__ import annotations

import os
import re
import site
import subprocess
import sys
from functools import reduce
from operator import xor
from pathlib import Path

import pytest

from ..core.import_graph import circles, import_graph

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "plugin-authoring.md"
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[tuple[str, str, str]]:
    """(language, attributes, body) of every fenced block of the page, in order."""
    return [(m.group(1), m.group(2), m.group(3)) for m in FENCE.finditer(PAGE.read_text())]


def _section(title: str) -> str:
    text = PAGE.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The example's files in a project folder, and an environment whose PATH starts with a
    throwaway venv (sees this environment's packages, installs its own)."""
    root = tmp_path_factory.mktemp("stamps")
    files = 0
    for _, attributes, body in _blocks():
        title = re.search(r'title="([^"]+)"', attributes)
        if title:
            target = root / "project" / title.group(1)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            files += 1
    assert files >= 5, "the example lost its files"
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "_hcekit_parent.pth").write_text(
        f"import site; site.addsitedir({site.getsitepackages()[0]!r})\n")
    shims = {  # what a user's activated venv provides
        "pip": f'exec {VENV_BIN / "pip"} --python {python} "$@" --no-deps --no-build-isolation '
               "--no-input --quiet",
        "hcekit": f'exec {python} -c "import sys; from hcekit.cli import main; '
                  f'raise SystemExit(main(sys.argv[1:]))" "$@"',
    }
    for name, line in shims.items():
        shim = venv / "bin" / name
        shim.write_text(f"#!/bin/sh\n{line}\n")
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    done = _sh(root / "project", env, "pip install -e .")
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "project", env


def _sh(project: Path, env: dict[str, str], line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", line], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_issuer_key_is_never_printed(project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    (folder / "issuer.key").write_text(os.urandom(16).hex())
    done = _sh(folder, env, "hcekit stamps personalize --store printed.sqlite --member M-1001 "
                            "--issuer-key issuer.key && hcekit stamps show --store printed.sqlite "
                            "&& hcekit tap stamps-till --only stamps --store printed.sqlite "
                            "--trace -s key=issuer.key")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "member M-1001: 1 stamps" in done.stdout
    key = (folder / "issuer.key").read_text().strip()
    assert key.lower() not in (done.stdout + done.stderr).lower().replace(" ", "")


def test_a_wrong_issuer_key_is_caught_by_the_till(project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    (folder / "right.key").write_text(os.urandom(16).hex())
    (folder / "other.key").write_text(os.urandom(16).hex())
    done = _sh(folder, env, "hcekit stamps personalize --store other.sqlite --member M-3 "
                            "--issuer-key right.key && hcekit tap stamps-till --only stamps "
                            "--store other.sqlite -s key=other.key")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MAC wrong, not a genuine card" in done.stdout


def test_the_atr_on_the_page_is_the_cards_and_pc_sc_part_3s(
        project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    stated = re.search(r"its own ATR,\s*`([0-9A-F ]+)`", _section("9. A complete card"))
    assert stated is not None
    historical = b"\x80\x56stamps"  # the page's HISTORICAL_BYTES: compact-TLV tag 5, 6 bytes
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    built = bytes([0x3B]) + body + bytes([reduce(xor, body, 0)])
    assert bytes.fromhex(stated.group(1)) == built
    card_atr = _sh(folder, env, "python -c 'from hcekit import Card; from hcekit_stamps import "
                                "StampsCard; print(Card([StampsCard()]).atr().hex())'")
    assert card_atr.returncode == 0, card_atr.stderr
    assert bytes.fromhex(card_atr.stdout.strip()) == built


def test_the_example_passes_strict_mypy_and_ruff(project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    checked = {**env, "MYPYPATH": str(REPO / "framework")}
    mypy = subprocess.run([str(VENV_BIN / "mypy"), "--strict", "--no-incremental",
                           "--cache-dir", os.devnull, "hcekit_stamps"], cwd=folder, env=checked,
                          capture_output=True, text=True, timeout=300, check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    ruff = subprocess.run([str(VENV_BIN / "ruff"), "check", "--config",
                           str(REPO / "pyproject.toml"), "hcekit_stamps"], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_the_example_has_no_import_circle(project: tuple[Path, dict[str, str]]) -> None:
    """Card, personalisation and till share protocol.py, as the built-ins and the scaffold do."""
    folder, _ = project
    graph = import_graph(folder / "hcekit_stamps")
    assert {"hcekit_stamps.protocol"} <= graph["hcekit_stamps.till"] & graph["hcekit_stamps.plugin"]
    assert circles(graph) == []

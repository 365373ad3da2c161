"""`hcekit new plugin NAME` for real: generate, pip install into a throwaway venv, run the
generated project's own pytest, `hcekit check NAME`, ruff and strict mypy on it."""

from __future__ import annotations

import importlib
import io
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import hcekit
import pytest
from hcekit import Card
from hcekit.cli.kit_commands import main as kit_main
from hcekit.hosts import LoopbackHost
from hcekit.scaffold import ScaffoldError, derive_aid, new_plugin, plugin_placeholders
from hcekit.terminal import LoopbackTransport, ScriptContext, Terminal
from hcekit.tracefile import TraceRecorder, replay_trace

VENV_BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=full_env,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def throwaway_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv that sees this environment's packages (hcekit, pytest) but installs its own."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        venv).stdout.strip())
    parent = site.getsitepackages()[0]
    (purelib / "_hcekit_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


def test_generated_project_installs_passes_its_tests_and_hcekit_check(
    tmp_path: Path, throwaway_python: Path
) -> None:
    assert kit_main(["new", "plugin", "kit_demo", "--dir", str(tmp_path)]) == 0
    project = tmp_path / "hcekit-kit-demo"
    assert (project / "src" / "hcekit_kit_demo" / "py.typed").exists()
    assert (project / ".gitignore").exists()
    pyproject = (project / "pyproject.toml").read_text()
    assert 'kit_demo = "hcekit_kit_demo:KitDemoCard"' in pyproject
    readme = (project / "README.md").read_text()  # hcekit is on no index: the README says so
    assert "pypi.org" not in readme.lower()
    assert "pip install --no-index --find-links wheels hcekit-kit-demo" in readme

    install = _run([str(VENV_BIN / "pip"), "--python", str(throwaway_python), "install",
                    "--no-deps", "--no-build-isolation", "--no-input", str(project)], tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr

    tests = _run([str(throwaway_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "passed" in tests.stdout and "failed" not in tests.stdout
    assert "test_conformance[malformed]" not in tests.stdout  # nothing failed to show

    assert (project / "tests" / "test_personalization.py").exists()
    assert "test_personalization.py .." in _run(
        [str(throwaway_python), "-m", "pytest", "-p", "no:cacheprovider", "tests/test_personalization.py"],
        project).stdout
    # the generated plugin's personalisation commands, through the core's framework
    cli = "import sys; from hcekit.cli import main; raise SystemExit(main(sys.argv[1:]))"
    store = tmp_path / "cards.sqlite"
    made = _run([str(throwaway_python), "-c", cli, "kit_demo", "personalize", "--store",
                 str(store), "--start", "7"], project)
    assert made.returncode == 0, made.stdout + made.stderr
    again = _run([str(throwaway_python), "-c", cli, "kit_demo", "personalize", "--store",
                  str(store)], project)
    assert again.returncode == 1 and "already holds a card; --force replaces it" in again.stderr
    shown = _run([str(throwaway_python), "-c", cli, "kit_demo", "show", "--store", str(store)],
                 project)
    assert shown.returncode == 0 and shown.stdout == "count 7\n", shown.stdout + shown.stderr

    check = _run([str(throwaway_python), "-m", "hcekit.cli.kit_commands", "check", "kit_demo"],
                 project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "entry point kit_demo = hcekit_kit_demo:KitDemoCard" in check.stdout
    assert "0 failed" in check.stdout and "FAILED" not in check.stdout

    lint = _run([str(VENV_BIN / "ruff"), "check", "--no-cache", "--select", "E,F,W,I,B,UP,RUF",
                 "--line-length", "100", "."], project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    framework = Path(hcekit.__file__).parents[1]
    types = _run([str(VENV_BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir",
                  os.devnull, "--explicit-package-bases", "src/hcekit_kit_demo", "tests"],
                 project, MYPYPATH=f"{framework}{os.pathsep}src")
    assert types.returncode == 0, types.stdout + types.stderr


def test_generated_card_records_and_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tutorial's last step in-process: run the demo with a recorder, replay the file."""
    project = new_plugin("counter_x", tmp_path)
    monkeypatch.syspath_prepend(str(project / "src"))
    module = importlib.import_module("hcekit_counter_x")
    trace = tmp_path / "demo.trace"
    card = Card([module.CounterXCard, TraceRecorder(trace)])
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    (script,) = module.CounterXCard().hcekit_terminal_scripts()
    out = io.StringIO()
    with terminal.tap():
        assert script.run(ScriptContext(terminal, out=out)) == 0
    card.close()
    assert out.getvalue().strip() == "counter_x: count 1 -> 2"
    with Card([module.CounterXCard]) as fresh:
        report = replay_trace(trace, fresh)
    assert report.ok and report.replayed == 3, report.format()
    with Card([module.CounterXCard]) as used:
        used.plugins["counter_x"].store.set_int("count", 7)
        assert len(replay_trace(trace, used).differences) == 2


def test_names_and_aids_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="lower-case letters"):
        new_plugin("My-Plugin", tmp_path)
    with pytest.raises(ScaffoldError, match="already installed"):
        new_plugin("ndef", tmp_path)
    with pytest.raises(ValueError, match="Android accepts"):
        new_plugin("short_aid", tmp_path, aid=b"\xf0\x01")
    assert len(derive_aid("x")) == 7 and derive_aid("x")[0] == 0xF0
    assert derive_aid("x") != derive_aid("y")
    values = plugin_placeholders("door_badge", bytes.fromhex("F00102030405"))
    assert values["class_name"] == "DoorBadgeCard" and values["dist"] == "hcekit-door-badge"
    assert values["select_hex"] == "00A4040006F0010203040500"


def test_an_aid_an_installed_plugin_or_the_core_routes_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ScaffoldError, match=r"overlaps what is installed \(ndef claims D2760000850101\)"):
        new_plugin("hotel_key", tmp_path, aid=bytes.fromhex("D2760000850101"))
    assert kit_main(["new", "plugin", "hotel_key", "--dir", str(tmp_path),
                     "--aid", b"2PAY.SYS.DDF01".hex()]) == 2
    assert capsys.readouterr().err.startswith(
        "hcekit: error: AID 325041592E5359532E4444463031 overlaps what is installed (ppse claims")
    assert not (tmp_path / "hcekit-hotel-key").exists()


def test_existing_directory_is_not_overwritten(tmp_path: Path) -> None:
    new_plugin("twice", tmp_path)
    with pytest.raises(ScaffoldError, match="not empty"):
        new_plugin("twice", tmp_path)
    assert new_plugin("twice", tmp_path, force=True).exists()


def test_tools_are_here() -> None:
    missing = [t for t in ("pip", "ruff", "mypy") if shutil.which(t, path=str(VENV_BIN)) is None]
    assert not missing, f"dev tools missing next to {sys.executable}: {missing}"

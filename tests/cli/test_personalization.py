"""One personalisation framework: the built-in commands behave the same (issue 17, item 4).

Same exit statuses (usage error 2, failure 1), same ``--force`` (replace an
existing card; never without it), errors on stderr, nothing left behind by
a refused run, the store namespace named after the entry point, and no key
material in what they print.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hcekit.cli import main
from hcekit.cli.personalization import add_personalization_commands
from hcekit.errors import PersonalizationError
from hcekit.personalization import Personalization
from hcekit.store import PluginStore, SqliteStore


@dataclass(frozen=True)
class Plugin:
    name: str
    first: list[str]  # a valid personalisation
    second: list[str]  # another valid one (what --force writes over the first)
    refused: list[str]  # arguments the plugin refuses (a usage error)
    noun: str


PLUGINS = [
    Plugin("access", [], ["--uuid", "0d5c3a0e-36f4-4c1e-9d6f-8f3b2f4f0a11"], ["--pin", "12"],
           "badge"),
    Plugin("transit", ["--uid", "04A1B2C3D4E5F6"], ["--uid", "04000000000001"],
           ["--expiry", "2099"], "transit card"),
    Plugin("payment", [], ["--pan", "4761739001010010"], ["--pan", "4000123412341234"],
           "payment card"),
    Plugin("loyalty", ["--member-id", "A-1"], ["--member-id", "B-2"], ["--balance", "-1"],
           "loyalty pass"),
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(path: Path, namespace: str) -> dict[str, bytes]:
    store = SqliteStore(path, read_only=True)
    try:
        ns = store.namespace(namespace)
        return {key: ns.get(key) or b"" for key in ns.keys()}
    finally:
        store.close()


def key_material(values: dict[str, bytes]) -> set[str]:
    """Hex forms of every long value (or long hex run inside a JSON value) in a namespace."""
    found = set()
    for value in values.values():
        if len(value) >= 16:
            found.add(value.hex())
        found.update(m.lower() for m in re.findall(r"[0-9A-Fa-f]{32,}", value.decode("latin-1")))
    return found


@pytest.fixture(params=PLUGINS, ids=lambda p: p.name)
def plugin(request: pytest.FixtureRequest) -> Plugin:
    assert isinstance(request.param, Plugin)
    return request.param


def test_force_means_replace_and_nothing_else(plugin: Plugin, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "cards.sqlite"
    code, out, err = run(capsys, plugin.name, "personalize", "--store", str(store), *plugin.first)
    assert code == 0, err
    first = snapshot(store, plugin.name)
    assert first, "personalize wrote nothing into the plugin's namespace"
    assert SqliteStore(store, read_only=True).namespaces() == [plugin.name]
    secrets = key_material(first)
    assert secrets and not any(s in out.lower() for s in secrets)

    code, out, err = run(capsys, plugin.name, "personalize", "--store", str(store),
                         *plugin.second)
    assert code == 1 and out == ""
    assert err == (f"hcekit: error: {plugin.name} personalize: {store} already holds a "
                   f"{plugin.noun}; --force replaces it\n")
    assert snapshot(store, plugin.name) == first  # never overwritten without --force

    code, out, err = run(capsys, plugin.name, "personalize", "--store", str(store), "--force",
                         *plugin.second)
    assert code == 0, err
    second = snapshot(store, plugin.name)
    assert second != first
    assert not any(s in out.lower() for s in key_material(second))


def test_usage_errors_exit_2_and_leave_nothing_behind(plugin: Plugin, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "cards.sqlite"
    code, out, err = run(capsys, plugin.name, "personalize", "--store", str(store),
                         *plugin.refused)
    assert code == 2 and out == ""
    assert "error:" in err
    assert list(tmp_path.iterdir()) == []
    # on an existing card, a refused --force changes nothing either
    assert run(capsys, plugin.name, "personalize", "--store", str(store), *plugin.first)[0] == 0
    before = snapshot(store, plugin.name)
    code, _, err = run(capsys, plugin.name, "personalize", "--store", str(store), "--force",
                       *plugin.refused)
    assert code == 2 and "error:" in err
    assert snapshot(store, plugin.name) == before


def test_failures_exit_1(plugin: Plugin, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    missing_dir = tmp_path / "nowhere" / "cards.sqlite"
    code, out, err = run(capsys, plugin.name, "personalize", "--store", str(missing_dir),
                         *plugin.first)
    assert code == 1 and out == "" and "does not exist" in err
    store = tmp_path / "cards.sqlite"
    owner = SqliteStore(store, owner="hcekit serve")
    try:
        code, out, err = run(capsys, plugin.name, "personalize", "--store", str(store),
                             "--force", *plugin.first)
    finally:
        owner.close()
    assert code == 1 and out == ""
    assert "(hcekit serve — this process)" in err
    assert snapshot(store, plugin.name) == {}


def test_show_reads_only(plugin: Plugin, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "cards.sqlite"
    code, out, err = run(capsys, plugin.name, "show", "--store", str(store))
    assert code == 1 and out == "" and f"no store at {store}" in err
    assert list(tmp_path.iterdir()) == []
    assert run(capsys, plugin.name, "personalize", "--store", str(store), *plugin.first)[0] == 0
    values = snapshot(store, plugin.name)
    owner = SqliteStore(store, owner="hcekit serve")  # show works while the card is served
    try:
        code, out, err = run(capsys, plugin.name, "show", "--store", str(store))
    finally:
        owner.close()
    assert code == 0, err
    assert out and not any(s in out.lower() for s in key_material(values))


def test_the_default_store_is_the_one_every_command_uses(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("HCEKIT_STORE", str(tmp_path / "env.sqlite"))
    assert run(capsys, "transit", "personalize", "--uid", "04A1B2C3D4E5F6")[0] == 0
    code, out, _ = run(capsys, "tap", "--only", "transit", "transit-inspect")
    assert code == 0 and "UID 04A1B2C3D4E5F6" in out


# -- the framework itself, with a plugin of the test's own -------------------------------


@dataclass(frozen=True)
class _Note:
    text: str


def _prepare_note(args: argparse.Namespace) -> _Note:
    if not args.text:
        raise PersonalizationError("the note is empty")
    return _Note(args.text)


def _write_then_fail(store: PluginStore, note: _Note) -> list[str]:
    store.set("note", note.text.encode())
    if note.text == "tear":
        raise RuntimeError("failed half-way")
    return [f"wrote {note.text!r}"]


NOTE = Personalization(
    summary="a note",
    description="Write a note.",
    add_arguments=lambda p: p.add_argument("text"),
    prepare=_prepare_note,
    write=_write_then_fail,
)


def note_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hcekit")
    add_personalization_commands(parser.add_subparsers(), "note", NOTE)
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_a_write_that_fails_half_way_leaves_the_old_card(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with pytest.raises(RuntimeError):
        note_cli(["note", "personalize", "--store", str(store), "tear"])
    assert list(tmp_path.iterdir()) == []  # a store this command created is removed
    assert note_cli(["note", "personalize", "--store", str(store), "first"]) == 0
    with pytest.raises(RuntimeError):
        note_cli(["note", "personalize", "--store", str(store), "--force", "tear"])
    assert snapshot(store, "note") == {"note": b"first"}  # rolled back, file kept


def test_prepare_runs_before_any_store_is_opened(tmp_path: Path) -> None:
    from hcekit.cli.common import UsageError

    with pytest.raises(UsageError, match="note personalize: the note is empty"):
        note_cli(["note", "personalize", "--store", str(tmp_path / "s.sqlite"), ""])
    assert list(tmp_path.iterdir()) == []

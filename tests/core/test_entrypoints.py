"""hcekit's entry-point reader gives importlib.metadata's answers, without importing it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import entry_points as metadata_entry_points
from pathlib import Path

import pytest
from hcekit.entrypoints import entry_points

GROUPS = ("hcekit", "hcekit.commands", "pytest11", "console_scripts")


def _pairs(group: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ours = [(ep.name, ep.value) for ep in entry_points(group)]
    theirs = [(ep.name, ep.value) for ep in metadata_entry_points(group=group)]
    return ours, theirs


def _dist(where: Path, dirname: str, entry_points_txt: str) -> None:
    info = where / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dirname.partition('-')[0]}\n")
    (info / "entry_points.txt").write_text(entry_points_txt)


@pytest.mark.parametrize("group", GROUPS)
def test_the_installed_groups_read_the_same(group: str) -> None:
    ours, theirs = _pairs(group)
    assert ours == theirs


def test_sys_path_order_and_the_first_distribution_of_a_name_win(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "Card_Extra-1.0.dist-info",
          "# a comment\n[hcekit]\nextra = extra_mod:Plugin\n\n[other]\nx = y\n")
    _dist(second, "card.extra-2.0.dist-info", "[hcekit]\nshadowed = nope:Plugin\n")
    _dist(second, "legacy-0.1.egg-info", "[hcekit]\n  legacy =  legacy_mod : Legacy \n")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    ours, theirs = _pairs("hcekit")
    assert ("extra", "extra_mod:Plugin") in ours
    assert ("legacy", "legacy_mod : Legacy") in ours
    assert all(name != "shadowed" for name, _ in ours)
    assert ours == theirs


def test_a_zip_on_sys_path_is_left_to_importlib_metadata(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\n")
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", "[hcekit]\nzipped = zipped:Plugin\n")
    monkeypatch.syspath_prepend(str(archive))
    ours, theirs = _pairs("hcekit")
    assert ("zipped", "zipped:Plugin") in ours
    assert ours == theirs


def test_loading_an_entry_point_imports_module_and_attribute() -> None:
    (ndef,) = [ep for ep in entry_points("hcekit") if ep.name == "ndef"]
    from hcekit_ndef import NdefPlugin

    assert ndef.load() is NdefPlugin


def test_reading_a_group_does_not_import_importlib_metadata() -> None:
    code = ("import sys\nfrom hcekit.entrypoints import entry_points\n"
            "assert entry_points('hcekit')\nprint('importlib.metadata' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

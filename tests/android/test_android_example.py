"""The buildozer example: prepare.py's output is what buildozer.spec points at, and it is valid."""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import py_compile
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hcekit import Category
from hcekit_android.manifest import parse_aid_xml

from .android_support import A, load_p4a_hook, render_p4a_manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "android"


def load_prepare() -> Any:
    spec = importlib.util.spec_from_file_location("example_prepare", EXAMPLE / "prepare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepared_files_match_the_spec(tmp_path: Path) -> None:
    load_prepare().prepare(tmp_path)
    spec = configparser.ConfigParser()
    spec.read(EXAMPLE / "buildozer.spec")
    app = spec["app"]
    assert app["android.permissions"].strip() == "NFC"
    for key in ("android.add_src", "p4a.hook"):
        assert (tmp_path / app[key]).exists(), f"{key} = {app[key]} is not prepared"
    assert "android.res_xml" not in app, "the hook copies the whole res/ (strings included)"
    assert (tmp_path / app["android.add_src"] / "org/hcekit/android/HcekitApduService.java").exists()
    res_xml = Path(app["p4a.hook"]).parent / "res" / "xml" / "hcekit_apduservice.xml"
    aids = parse_aid_xml((tmp_path / res_xml).read_text())
    assert aids == [(Category.OTHER, "D2760000850101")]
    for package in ("hcekit", "hcekit_ndef", "hcekit_android"):
        assert (tmp_path / package / "__init__.py").exists()
    # the prepared hook, with the prepared fragment, turns the manifest p4a renders for this
    # spec's services into an HCE app's whose HCE service shares the Python service's process
    services = [entry.split(":")[0] for entry in app["services"].split(",")]
    assert services == ["hcekit"] and app["services"].strip() == "hcekit:service.py"
    assert (EXAMPLE / "service.py").exists()
    hook = load_p4a_hook()
    fragment = (tmp_path / "p4a" / "hcekit_service.xml").read_text()
    package = f"{app['package.domain']}.{app['package.name']}"
    rendered = render_p4a_manifest(services, package=package)
    root = ET.fromstring(hook.insert_service(rendered, fragment))
    by_name = {s.get(A + "name"): s for s in root.iter("service")}
    hce = by_name["org.hcekit.android.HcekitApduService"]
    python = by_name[f"{package}.ServiceHcekit"]
    assert hce.get(A + "process") == python.get(A + "process") == ":service_hcekit"
    resources = [m.get(A + "resource") for m in hce.iter("meta-data") if m.get(A + "resource")]
    xml_name = res_xml.stem
    assert resources == [f"@xml/{xml_name}"]


def test_example_app_compiles(tmp_path: Path) -> None:
    for name in ("main.py", "service.py"):
        py_compile.compile(str(EXAMPLE / name), cfile=str(tmp_path / f"{name}c"), doraise=True)


def test_a_third_party_plugin_goes_into_the_app(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The recipe in docs/android.md: an installed plugin that is not hcekit's (here a freshly
    generated project on sys.path) is copied, claimed in the AID XML, listed in PLUGINS, and
    the p4a hook still turns p4a's manifest into the HCE app's."""
    from hcekit.scaffold import new_plugin

    project = new_plugin("p4a_guest", tmp_path / "src", aid=bytes.fromhex("F0484F54454C01"))
    monkeypatch.syspath_prepend(str(project / "src"))
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    load_prepare().prepare(app_dir, ["hcekit_p4a_guest:P4aGuestCard"])
    assert (app_dir / "hcekit_p4a_guest" / "plugin.py").exists()
    aids = parse_aid_xml((app_dir / "p4a" / "res" / "xml" / "hcekit_apduservice.xml").read_text())
    assert sorted(aids) == [(Category.OTHER, "D2760000850101"), (Category.OTHER, "F0484F54454C01")]
    plugins_module = (app_dir / "app_plugins.py").read_text()
    assert "from hcekit_p4a_guest import P4aGuestCard" in plugins_module
    assert "PLUGINS = [NdefPlugin, P4aGuestCard]" in plugins_module
    # the prepared app imports as the service will: from the copied packages alone
    monkeypatch.syspath_prepend(str(app_dir))
    for name in [m for m in sys.modules if m.startswith(("hcekit_p4a_guest", "app_plugins"))]:
        monkeypatch.delitem(sys.modules, name)
    app_plugins = importlib.import_module("app_plugins")
    assert Path(sys.modules["hcekit_p4a_guest"].__file__ or "").parent == app_dir / "hcekit_p4a_guest"
    assert [p.__name__ for p in app_plugins.PLUGINS] == ["NdefPlugin", "P4aGuestCard"]
    spec = configparser.ConfigParser()
    spec.read(EXAMPLE / "buildozer.spec")
    app = spec["app"]
    package = f"{app['package.domain']}.{app['package.name']}"
    fragment = (app_dir / "p4a" / "hcekit_service.xml").read_text()
    root = ET.fromstring(load_p4a_hook().insert_service(
        render_p4a_manifest(["hcekit"], package=package), fragment))
    names = [s.get(A + "name") for s in root.iter("service")]
    assert "org.hcekit.android.HcekitApduService" in names

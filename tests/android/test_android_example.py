"""The buildozer example: prepare.py's output is what buildozer.spec points at, and it is valid."""

from __future__ import annotations

import configparser
import importlib.util
import py_compile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

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

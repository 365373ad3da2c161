"""The buildozer example: prepare.py's output is what buildozer.spec points at, and it is valid."""

from __future__ import annotations

import configparser
import importlib.util
import py_compile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from android_support import P4A_MANIFEST, A, load_p4a_hook
from hcekit import Category
from hcekit_android.manifest import parse_aid_xml

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
    for key in ("android.add_src", "android.res_xml", "p4a.hook"):
        assert (tmp_path / app[key]).exists(), f"{key} = {app[key]} is not prepared"
    assert (tmp_path / app["android.add_src"] / "org/hcekit/android/HcekitApduService.java").exists()
    aids = parse_aid_xml((tmp_path / app["android.res_xml"]).read_text())
    assert aids == [(Category.OTHER, "D2760000850101")]
    for package in ("hcekit", "hcekit_ndef", "hcekit_android"):
        assert (tmp_path / package / "__init__.py").exists()
    # the prepared hook, with the prepared fragment, turns p4a's manifest into an HCE app's
    hook = load_p4a_hook()
    fragment = (tmp_path / "p4a" / "hcekit_service.xml").read_text()
    root = ET.fromstring(hook.insert_service(P4A_MANIFEST, fragment))
    (service,) = root.iter("service")
    (meta,) = service.iter("meta-data")
    xml_name = Path(app["android.res_xml"]).stem
    assert meta.get(A + "resource") == f"@xml/{xml_name}"


def test_example_app_compiles(tmp_path: Path) -> None:
    py_compile.compile(str(EXAMPLE / "main.py"), cfile=str(tmp_path / "main.pyc"), doraise=True)

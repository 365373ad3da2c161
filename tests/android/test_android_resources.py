"""The generated resources compile with Android's own resource compiler (aapt).

aapt (Debian's, from AOSP 10) links the app's manifest and ``res/`` against
the framework's compiled resources: Debian's ``android-framework-res`` (API
29), and the ``resources.arsc`` inside Robolectric's ``android-all`` jars (API
34, the newest whose resource table this aapt reads) for attributes newer
than 29. What aapt refuses, ``parse_aid_xml``
refuses too.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hcekit.cli import main
from hcekit.errors import ClaimError
from hcekit.testing.requirements import missing
from hcekit_android import robolectric
from hcekit_android.manifest import parse_aid_xml, service_xml

from .android_support import P4A_MANIFEST, load_p4a_hook

FRAMEWORK_RES_29 = Path("/usr/share/android-framework-res/framework-res.apk")
PLUGINS = ["--no-installed", "--plugin", "hcekit_ndef:NdefPlugin",
           "--plugin", "tests.android.android_plugins:Payment",
           "--plugin", "hcekit_access:AccessPlugin"]


def aapt() -> str:
    found = shutil.which("aapt")
    if found is None or not FRAMEWORK_RES_29.exists():
        missing("aapt and android-framework-res are not installed (scripts/install-system-deps.sh)")
    assert found is not None
    return found


def framework(api: int) -> Path:
    return FRAMEWORK_RES_29 if api == 29 else robolectric.android_all(api)


def app_manifest(tmp_path: Path) -> Path:
    """p4a's manifest with the HCE service the hook inserts."""
    hook = load_p4a_hook()
    manifest = tmp_path / "AndroidManifest.xml"
    manifest.write_text(hook.insert_service(P4A_MANIFEST, service_xml()), encoding="utf-8")
    return manifest


def link(tmp_path: Path, res: Path, api: int) -> subprocess.CompletedProcess[str]:
    # p4a's manifest names @string/app_name and @mipmap/icon: give them, as p4a's template does
    (res / "values" / "app.xml").write_text(
        '<resources><string name="app_name">hcekit</string></resources>', encoding="utf-8")
    icon = res / "mipmap"
    icon.mkdir(exist_ok=True)
    (icon / "icon.xml").write_text(
        '<shape xmlns:android="http://schemas.android.com/apk/res/android"/>', encoding="utf-8")
    return subprocess.run(
        [aapt(), "package", "-f", "-M", str(app_manifest(tmp_path)), "-S", str(res),
         "-I", str(framework(api)), "-F", str(tmp_path / "app.apk")],
        capture_output=True, text=True, check=False)


def write_res(res: Path, *extra: str) -> None:
    assert main(["android", "res", str(res), *PLUGINS, "--banner", "@drawable/hcekit_banner",
                 "--description", "Campus card & door key", *extra]) == 0


def test_generated_res_compiles_with_aapt_against_api_29(tmp_path: Path) -> None:
    res = tmp_path / "res"
    write_res(res)
    result = link(tmp_path, res, 29)
    assert result.returncode == 0, result.stderr
    dump = subprocess.run([aapt(), "dump", "xmltree", str(tmp_path / "app.apk"),
                           "res/xml/hcekit_apduservice.xml"], capture_output=True, text=True,
                          check=True).stdout
    assert "aid-suffix-filter" in dump and "@0x7f" in dump, "descriptions resolve to app strings"
    strings = subprocess.run([aapt(), "dump", "resources", str(tmp_path / "app.apk")],
                             capture_output=True, text=True, check=True).stdout
    assert "string/hcekit_service_description" in strings
    assert "drawable/hcekit_banner" in strings


#: Debian's aapt (AOSP 10) reads the framework resources of API 34's android-all; those of
#: 35 and 36 use a resource-table format it predates (it finds no android: attributes at all).
NEWEST_FRAMEWORK_AAPT_READS = 34


@pytest.mark.parametrize("api", [NEWEST_FRAMEWORK_AAPT_READS])
def test_screen_off_attribute_compiles_from_api_31(tmp_path: Path, api: int) -> None:
    res = tmp_path / "res"
    write_res(res, "--allow-screen-off")
    assert 'android:requireDeviceScreenOn="false"' in (res / "xml" / "hcekit_apduservice.xml").read_text()
    result = link(tmp_path, res, api)
    assert result.returncode == 0, result.stderr


def test_api_29_resources_lack_the_screen_off_attribute(tmp_path: Path) -> None:
    """Why the attribute needs newer framework resources: API 29's aapt does not know it."""
    res = tmp_path / "res"
    write_res(res, "--allow-screen-off")
    result = link(tmp_path, res, 29)
    assert result.returncode != 0 and "requireDeviceScreenOn" in result.stderr


def test_a_literal_description_is_refused_by_aapt_and_by_parse_aid_xml(tmp_path: Path) -> None:
    res = tmp_path / "res"
    write_res(res)
    xml = res / "xml" / "hcekit_apduservice.xml"
    literal = xml.read_text().replace("@string/hcekit_service_description", "hcekit", 1)
    xml.write_text(literal, encoding="utf-8")
    result = link(tmp_path, res, 29)
    assert result.returncode != 0 and "String types not allowed" in result.stderr
    with pytest.raises(ClaimError, match="reference-only"):
        parse_aid_xml(literal)


def test_the_strings_hold_the_descriptions_escaped_for_aapt(tmp_path: Path) -> None:
    res = tmp_path / "res"
    assert main(["android", "res", str(res), "--no-installed", "--plugin",
                 "hcekit_ndef:NdefPlugin", "--description", "Bob's @card"]) == 0
    values = ET.parse(res / "values" / "hcekit_strings.xml").getroot()
    texts = {s.get("name"): s.text for s in values}
    assert texts["hcekit_service_description"] == "Bob\\'s @card"
    assert texts["hcekit_other_aids"] == "hcekit: ndef"
    assert link(tmp_path, res, 29).returncode == 0
    compiled = subprocess.run([aapt(), "dump", "--values", "resources", str(tmp_path / "app.apk")],
                              capture_output=True, text=True, check=True).stdout
    assert "\"Bob's @card\"" in compiled, "aapt reads back the text as written"


def test_the_p4a_hook_copies_the_resources_into_the_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = load_p4a_hook()
    beside = tmp_path / "p4a"
    beside.mkdir()
    (beside / "hcekit_service.xml").write_text(service_xml(), encoding="utf-8")
    write_res(beside / "res")
    dist = tmp_path / "dist"
    (dist / "src" / "main").mkdir(parents=True)
    (dist / "src" / "main" / "AndroidManifest.xml").write_text(P4A_MANIFEST, encoding="utf-8")
    monkeypatch.setenv(hook.SERVICE_XML_ENV, str(beside / "hcekit_service.xml"))
    monkeypatch.chdir(dist)
    hook.after_apk_build(object())
    copied = dist / "src" / "main" / "res"
    assert (copied / "xml" / "hcekit_apduservice.xml").exists()
    assert (copied / "values" / "hcekit_strings.xml").exists()
    assert (copied / "drawable" / "hcekit_banner.xml").exists()

"""python-for-android hook: put hcekit's HCE ``<service>`` and its resources into the build.

buildozer cannot add a ``<service>`` element with an intent filter and
meta-data through ``buildozer.spec`` settings, so this hook edits
``src/main/AndroidManifest.xml`` after p4a renders it and before Gradle
builds (``after_apk_build``). Set in buildozer.spec::

    p4a.hook = p4a/hcekit_p4a_hook.py

It inserts the file ``hcekit_service.xml`` found next to this hook (generate
it with ``hcekit android manifest -o p4a/hcekit_service.xml``), or the file
named by ``$HCEKIT_SERVICE_XML``, plus the NFC permission and the HCE
``<uses-feature>`` if the manifest lacks them. Running it twice changes
nothing. Standard library only: p4a runs it with its own Python.

When the fragment names a Python service (``hcekit android manifest
--python-service NAME``), the hook finds the ``<service>`` p4a rendered for
``services = NAME:ENTRY.py`` and puts the HCE service in that service's
process, with the class's full name in the meta-data, so the shim's static
bridge and the Python card share one process; a manifest without that
service is an error that says which buildozer setting is missing.

It also copies the folder ``res/`` next to this hook (``hcekit android res
p4a/res``: the AID XML, the strings it refers to, the banner) into the
build's ``src/main/res/``: buildozer's ``android.res_xml`` copies XML files
only, and the AID XML's ``@string`` references need their values.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ANDROID_NS = "http://schemas.android.com/apk/res/android"
META_PYTHON_SERVICE = "org.hcekit.python_service"
SERVICE_XML_ENV = "HCEKIT_SERVICE_XML"
PERMISSION = '<uses-permission android:name="android.permission.NFC" />'
FEATURE = '<uses-feature android:name="android.hardware.nfc.hce" android:required="true" />'


class ManifestHookError(RuntimeError):
    """The manifest or the service fragment is not what the hook can safely edit."""


def _service_name(fragment: str) -> str:
    wrapped = f'<manifest xmlns:android="{ANDROID_NS}">{fragment}</manifest>'
    try:
        root = ET.fromstring(wrapped)
    except ET.ParseError as exc:
        raise ManifestHookError(f"service fragment is not well-formed XML: {exc}") from exc
    services = root.findall("service")
    if len(services) != 1 or len(root) != 1:
        raise ManifestHookError("the fragment must hold exactly one <service> element")
    name = services[0].get(f"{{{ANDROID_NS}}}name")
    if not name:
        raise ManifestHookError("the <service> element has no android:name")
    return name


def _a(name: str) -> str:
    return f"{{{ANDROID_NS}}}{name}"


def join_python_service(manifest: str, fragment: str) -> str:
    """*fragment* with the process and full class name of the Python service it names.

    Unchanged when the fragment names no Python service.
    """
    wrapped = ET.fromstring(f'<manifest xmlns:android="{ANDROID_NS}">{fragment}</manifest>')
    service = wrapped.find("service")
    assert service is not None  # _service_name checked it
    meta = [m for m in service.findall("meta-data") if m.get(_a("name")) == META_PYTHON_SERVICE]
    if not meta:
        return fragment
    wanted = meta[0].get(_a("value")) or ""
    candidates = [s for s in ET.fromstring(manifest).iter("service")
                  if (s.get(_a("name")) or "") == wanted
                  or (wanted.startswith(".") and (s.get(_a("name")) or "").endswith(wanted))]
    if len(candidates) != 1:
        short = wanted.lstrip(".").rsplit(".", 1)[-1]
        name = short.removeprefix("Service").lower()
        raise ManifestHookError(
            f"the HCE service should run in the process of the Python service {short}, but the "
            f"manifest declares {'no' if not candidates else 'more than one'} such <service>: "
            f"add 'services = {name}:service.py' to buildozer.spec ([app] section) so that "
            f"python-for-android generates it")
    python = candidates[0]
    process = python.get(_a("process"))
    if process is None:
        service.attrib.pop(_a("process"), None)
    else:
        service.set(_a("process"), process)
    meta[0].set(_a("value"), python.get(_a("name")) or wanted)
    ET.register_namespace("android", ANDROID_NS)
    text = ET.tostring(service, encoding="unicode")
    return text.replace(f' xmlns:android="{ANDROID_NS}"', "", 1)


def _indent(block: str, prefix: str) -> str:
    return "".join(prefix + line + "\n" if line.strip() else "\n"
                   for line in block.strip("\n").splitlines())


def insert_service(manifest: str, fragment: str) -> str:
    """*manifest* with the ``<service>`` in *fragment* and the NFC requirements added."""
    name = _service_name(fragment)
    try:
        ET.fromstring(manifest)
    except ET.ParseError as exc:
        raise ManifestHookError(f"AndroidManifest.xml is not well-formed: {exc}") from exc
    if f'android:name="{name}"' not in manifest:
        fragment = join_python_service(manifest, fragment)
        if manifest.count("</application>") != 1:
            raise ManifestHookError("expected exactly one </application> in the manifest")
        manifest = manifest.replace("</application>",
                                    _indent(fragment, "        ") + "    </application>")
    head = []
    if 'android:name="android.permission.NFC"' not in manifest:
        head.append(PERMISSION)
    if 'android:name="android.hardware.nfc.hce"' not in manifest:
        head.append(FEATURE)
    if head:
        match = re.search(r"<application\b", manifest)
        if match is None:
            raise ManifestHookError("no <application> element in the manifest")
        manifest = (manifest[: match.start()] + "\n    ".join(head) + "\n    "
                    + manifest[match.start():])
    ET.fromstring(manifest)  # still well-formed
    return manifest


def _fragment_path() -> Path:
    env = os.environ.get(SERVICE_XML_ENV)
    return Path(env) if env else Path(__file__).with_name("hcekit_service.xml")


def patch_manifest_file(manifest_path: Path, fragment_path: Path) -> None:
    if not fragment_path.exists():
        raise ManifestHookError(
            f"{fragment_path} not found: run 'hcekit android manifest -o {fragment_path}'")
    text = manifest_path.read_text(encoding="utf-8")
    manifest_path.write_text(insert_service(text, fragment_path.read_text(encoding="utf-8")),
                             encoding="utf-8")


def copy_resources(source: Path, res_dir: Path) -> list[Path]:
    """Copy every file under *source* (a res/ folder) into *res_dir*; the copies."""
    if not source.is_dir():
        raise ManifestHookError(f"{source} not found: run 'hcekit android res {source}'")
    copied = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = res_dir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            copied.append(target)
    return copied


def after_apk_build(toolchain: Any) -> None:
    """p4a hook: the dist's manifest is rendered; Gradle has not run yet."""
    dist = getattr(getattr(toolchain, "_dist", None), "dist_dir", None) or os.getcwd()
    main = Path(dist) / "src" / "main"
    manifest_path = main / "AndroidManifest.xml"
    patch_manifest_file(manifest_path, _fragment_path())
    print(f"hcekit: HCE service added to {manifest_path}")
    copied = copy_resources(_fragment_path().with_name("res"), main / "res")
    print(f"hcekit: {len(copied)} resource file(s) copied into {main / 'res'}")

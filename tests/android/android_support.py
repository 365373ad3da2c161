"""Helpers the Android tests import (conftest.py holds only fixtures: its module name is shared)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hcekit_android.manifest import ANDROID_NS

SERVICE_COMPONENT = "org.hcekit.example/org.hcekit.android.HcekitApduService"
A = f"{{{ANDROID_NS}}}"

HostFactory = Callable[..., Any]


def select(aid: bytes) -> bytes:
    """SELECT by DF name, first occurrence, as readers send it."""
    return bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid


def static_xml(other: list[str] | tuple[str, ...] = (), payment: list[str] | tuple[str, ...] = (),
               *, banner: bool = False, unlock: bool = False) -> str:
    """A host-apdu-service resource with static groups (exact AIDs), written here by hand."""
    groups = ""
    for category, aids in (("payment", payment), ("other", other)):
        if aids:
            filters = "".join(f'<aid-filter android:name="{aid}"/>' for aid in aids)
            groups += (f'<aid-group android:category="{category}" android:description="@string/t">'
                       f"{filters}</aid-group>")
    extra = ' android:apduServiceBanner="@drawable/banner"' if banner else ""
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/t" '
            f'android:requireDeviceUnlock="{"true" if unlock else "false"}"{extra}>'
            f"{groups}</host-apdu-service>")


def log_lines(jvm: SimpleNamespace) -> list[str]:
    return [str(line) for line in jvm.Phone.logLines()]


def load_p4a_hook() -> Any:
    path = Path(__file__).resolve().parents[2] / "android_host" / "hcekit_android" / "p4a_hook.py"
    spec = importlib.util.spec_from_file_location("hcekit_p4a_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: A manifest as python-for-android's sdl2 bootstrap renders it (abridged).
P4A_MANIFEST = f"""<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="{ANDROID_NS}"
      package="org.hcekit.example"
      android:versionCode="1"
      android:versionName="0.1"
      android:installLocation="auto">
    <supports-screens android:smallScreens="true" android:anyDensity="true" />
    <uses-permission android:name="android.permission.INTERNET" />
    <application android:label="@string/app_name" android:icon="@mipmap/icon"
                 android:allowBackup="true" android:hardwareAccelerated="true">
        <activity android:name="org.kivy.android.PythonActivity" android:exported="true"
                  android:label="@string/app_name">
            <intent-filter>
                <action android:name="android.intent.action.MAIN" />
                <category android:name="android.intent.category.LAUNCHER" />
            </intent-filter>
        </activity>
    </application>
</manifest>
"""


def p4a_manifest_template() -> Path:
    """python-for-android's own AndroidManifest template (the sdl2 bootstrap's)."""
    import importlib.util

    from hcekit.testing.requirements import missing

    spec = importlib.util.find_spec("pythonforandroid")
    if spec is None or spec.origin is None:
        missing("python-for-android is not installed (pip install -e '.[dev]')")
    template = (Path(spec.origin).parent / "bootstraps" / "_sdl_common" / "build" / "templates"
                / "AndroidManifest.tmpl.xml")
    assert template.exists(), f"python-for-android moved its manifest template: {template}"
    return template


def render_p4a_manifest(services: list[str], *, package: str = "org.hcekit.example") -> str:
    """AndroidManifest.xml as python-for-android renders it for buildozer's services = …

    Rendered with jinja2 from p4a's template and the arguments its build.py
    passes (``services = NAME:ENTRY.py`` → ``service_data``), as buildozer's
    defaults for an app with ``android.permissions = NFC`` set them.
    """
    import jinja2

    template = p4a_manifest_template()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template.parent)),
                             undefined=jinja2.StrictUndefined, autoescape=False)
    args = SimpleNamespace(
        numeric_version="1", version="0.1", min_sdk_version=21,
        permissions=[{"name": "android.permission.NFC", "maxSdkVersion": None,
                      "usesPermissionFlags": None}],
        wakelock=False, billing_pubkey=None, extra_manifest_xml="", allow_backup="true",
        backup_rules=None, extra_manifest_application_arguments="",
        android_apptheme="@android:style/Theme.NoTitleBar", window=False,
        android_used_libs=[], meta_data=[], android_entrypoint="org.kivy.android.PythonActivity",
        manifest_orientation="portrait", activity_launch_mode=None, launcher=False,
        intent_filters=None, home_app=False, service_class_name="org.kivy.android.PythonService",
        package=package, add_activity=[],
    )
    return env.get_template(template.name).render(
        args=args, service=False, service_data=[(name, None) for name in services],
        android_api=34, debug=False, native_services=[], url_scheme="kivy")

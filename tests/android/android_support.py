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
            groups += (f'<aid-group android:category="{category}" android:description="t">'
                       f"{filters}</aid-group>")
    extra = ' android:apduServiceBanner="@drawable/banner"' if banner else ""
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="t" '
            f'android:requireDeviceUnlock="{"true" if unlock else "false"}"{extra}>'
            f"{groups}</host-apdu-service>")


def log_lines(jvm: SimpleNamespace) -> list[str]:
    return [str(line) for line in jvm.Log.desktopLines()]


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

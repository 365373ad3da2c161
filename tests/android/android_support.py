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

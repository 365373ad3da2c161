"""The real Android framework for the Android tests: Robolectric in a desktop JVM through pyjnius.

The session fixture compiles the shim (against ``android-all`` of the level
``$HCEKIT_ANDROID_API`` names, 34 by default) with the desktop model of the
phone, then starts the JVM and Robolectric's sandbox (once per process).
Per test, the phone is reset (fresh NFC thread, nothing installed, settings
back to a capable phone) with hcekit's HCE service installed without static
AIDs, the shim's deadline and dispatch mode restored, and every host stopped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import Card
from hcekit.testing.requirements import missing
from hcekit_android.jvm import JavaSetupError, compile_java, find_java_home, start_desktop_jvm


@pytest.fixture(scope="session")
def jvm(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    if importlib.util.find_spec("jnius") is None:
        missing("pyjnius is not installed (pip install -e '.[android]')")
    if find_java_home() is None:
        missing("no JDK (scripts/install-system-deps.sh installs openjdk-17-jdk-headless)")
    try:
        classes = compile_java(tmp_path_factory.mktemp("java-classes"))
        api = start_desktop_jvm(classes)
    except JavaSetupError as exc:
        pytest.fail(str(exc))
    from jnius import autoclass

    phone_class = autoclass("org.hcekit.desktop.Phone")
    return SimpleNamespace(
        api=api,
        Bridge=autoclass("org.hcekit.bridge.HcekitBridge"),
        Phone=phone_class,
        context=phone_class.context,
        EchoListener=autoclass("org.hcekit.desktop.EchoListener"),
    )


@pytest.fixture
def phone(jvm: SimpleNamespace) -> Iterator[Any]:
    from hcekit_android.desktop import install_service

    current = jvm.Phone.reset()
    install_service()  # declared in the manifest; AIDs come from registration
    yield current
    jvm.Bridge.awaitDispatched(10_000)
    jvm.Bridge.setDeadlineMillis(jvm.Bridge.DEFAULT_DEADLINE_MS)
    jvm.Bridge.setInlineDispatch(False)
    jvm.Bridge.setColdStartMillis(jvm.Bridge.DEFAULT_COLD_START_MS)


@pytest.fixture
def stack(phone: Any) -> Any:
    """The phone's NFC service and the reader (org.hcekit.desktop.NfcStack)."""
    return phone.nfc()


@pytest.fixture
def make_host(jvm: SimpleNamespace, phone: Any) -> Iterator[Callable[..., Any]]:
    from hcekit_android import AndroidHost

    hosts: list[Any] = []

    def make(plugins: Any, *, start: bool = True, **kwargs: Any) -> Any:
        card = plugins if isinstance(plugins, Card) else Card(plugins)
        host = AndroidHost(card, context=jvm.context(), **kwargs)
        hosts.append(host)
        if start:
            host.start()
        return host

    yield make
    for host in hosts:
        host.stop()
    assert not jvm.Bridge.hasListener(), "a test left a listener attached to the shim"

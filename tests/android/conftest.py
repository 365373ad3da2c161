"""A real desktop JVM for the Android tests: javac + pyjnius, classpath set before ``import jnius``.

The session fixture compiles the shim and the android.* stand-ins, then starts
the JVM (once per process). Per test, the simulated phone is reset (fresh
app and NFC threads) with hcekit's HCE service installed without static AIDs,
the shim's deadline and dispatch mode restored, and every host stopped.
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
    classes = compile_java(tmp_path_factory.mktemp("java-classes"))
    try:
        start_desktop_jvm(classes)
    except JavaSetupError as exc:
        pytest.fail(str(exc))
    from jnius import autoclass

    return SimpleNamespace(
        Bridge=autoclass("org.hcekit.android.HcekitBridge"),
        Phone=autoclass("org.hcekit.desktop.Phone"),
        Log=autoclass("android.util.Log"),
        Context=autoclass("android.content.Context"),
        Activity=autoclass("android.app.Activity"),
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
        host = AndroidHost(card, context=jvm.Context(), **kwargs)
        hosts.append(host)
        if start:
            host.start()
        return host

    yield make
    for host in hosts:
        host.stop()
    assert not jvm.Bridge.hasListener(), "a test left a listener attached to the shim"

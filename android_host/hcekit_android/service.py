"""The card in python-for-android's service: ``service_main()`` and warm starts.

With ``services = hcekit:service.py`` in buildozer.spec, python-for-android
runs ``service.py`` in an Android Service of its own (``PythonService``, the
generated class ``<package>.ServiceHcekit``, process ``:service_hcekit``).
``hcekit android manifest --python-service hcekit`` puts the HCE service in
that process, so a tap on a phone whose app is closed starts the process, the
HCE service asks the shim to start the Python service (a cold start), and
``service_main()`` attaches the card; the command held meanwhile is answered.

``service.py`` is then just::

    from hcekit_android import service_main
    service_main()          # or service_main([MyPlugin], options={...})
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hcekit.card import Card
from hcekit.plugins import PluginSpec
from hcekit.store import open_store

from .host import AndroidHost

__all__ = ["service_main", "store_path", "private_path", "start_python_service", "STORE_NAME"]

log = logging.getLogger("hcekit.android")

#: The card's store, in the app's private files directory.
STORE_NAME = "hcekit-store.sqlite"


def store_path() -> Path | None:
    """``$ANDROID_PRIVATE/hcekit-store.sqlite`` (python-for-android sets the variable), else None."""
    private = os.environ.get("ANDROID_PRIVATE")
    return Path(private) / STORE_NAME if private else None


def private_path(name: str | Path) -> Path:
    """*name* inside the app's private files (``$ANDROID_PRIVATE``) unless absolute."""
    path = Path(name)
    private = os.environ.get("ANDROID_PRIVATE")
    return path if path.is_absolute() or not private else Path(private) / path


def _installed() -> list[object]:
    from hcekit.plugins import installed_plugins

    return [plugin for _, plugin in installed_plugins()]


def service_main(
    plugins: Iterable[PluginSpec] | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    store: str | Path | None = None,
    deadline_ms: int | None = None,
    context: Any = None,
    stop: threading.Event | None = None,
    pcap: str | Path | None = None,
) -> None:
    """Build the card, attach it to the shim and serve until *stop* is set (by default: forever).

    *plugins*: default, every installed plugin (entry points; an app that copies
    hcekit's packages instead of installing them must list its plugins).
    *store*: default :func:`store_path` (the app's private files), in memory
    outside Android. *context*: default the running PythonService. *pcap*: also
    write every exchange as pcapng for Wireshark (:mod:`hcekit.capture`); a
    relative path is in the app's private files (:func:`private_path`), so
    ``adb exec-out run-as PACKAGE cat files/taps.pcapng > taps.pcapng`` fetches it.
    """
    specs = list(plugins) if plugins is not None else _installed()
    path = store if store is not None else store_path()
    backend = open_store(path)
    try:
        card = Card(specs, store=backend, options=options)
        if pcap is not None:
            from hcekit.capture import PcapRecorder

            target = private_path(pcap)
            card.register(PcapRecorder(target, plugins=sorted({n for n, _ in card.claims()})))
            log.info("writing the taps to %s (pcapng)", target)
        host = AndroidHost(card, context=context, deadline_ms=deadline_ms)
        try:
            host.start()
        except BaseException:
            card.close()
            raise
        names = ", ".join(sorted({name for name, _ in card.claims()}))
        log.info("hcekit card attached in the Python service (%s)", names)
        try:
            (stop or threading.Event()).wait()
        finally:
            host.stop()
    finally:
        backend.close()


def start_python_service(name: str, context: Any = None) -> bool:
    """Warm start: start python-for-android's service *name* now (e.g. from the app's ``build``).

    Calls the generated class's ``start(Context, String)`` through the shim, as a
    cold start does; False if the class is missing (see the ``hcekit`` log tag).
    """
    from jnius import autoclass

    from .bridge import BRIDGE_HOST_CLASS
    from .manifest import p4a_service_class
    from .platform import android_context

    ctx = context if context is not None else android_context()
    class_name = str(ctx.getPackageName()) + p4a_service_class(name)
    return bool(autoclass(BRIDGE_HOST_CLASS)(ctx).startPythonService(class_name))

"""The APDU path between the Java shim and a :class:`~hcekit.card.Card`.

The shim hands every command to an ``org.hcekit.android.ApduListener`` that
Python implements with pyjnius; Python answers through the static
``HcekitBridge.respond(serial, byte[])`` because pyjnius cannot return a Java
``byte[]`` from a Python callback. :class:`CardBridge` serialises every call
into the card (it is not thread-safe) and turns Android's lack of a
field-on event into one: the first command after a deactivation starts a tap.

Dispatch modes:

``inline``
    the card answers inside the callback, on the thread Android called
    ``processCommandApdu`` on; the shim then returns the answer directly
    (fastest; a slow plugin holds that thread, the shim's deadline still answers).
``worker``
    the callback queues the command and returns; a Python thread answers. For
    plugins that block (the WeChat-style facade waits for the app's answer).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

from hcekit.card import Card
from hcekit.events import DeactivationReason

__all__ = ["SHIM_PACKAGE", "SERVICE_CLASS", "BRIDGE_CLASS", "CardBridge", "Dispatch",
           "java_bridge", "make_listener"]

log = logging.getLogger("hcekit.android")

SHIM_PACKAGE = "org.hcekit.android"
#: The class named in the manifest's ``<service android:name=…>``.
SERVICE_CLASS = f"{SHIM_PACKAGE}.HcekitApduService"
BRIDGE_CLASS = f"{SHIM_PACKAGE}.HcekitBridge"
LISTENER_INTERFACE = "org/hcekit/android/ApduListener"

Dispatch = Literal["inline", "worker"]
Responder = Callable[[int, bytes], Any]


@cache
def java_bridge() -> Any:
    """The ``HcekitBridge`` class through pyjnius (imports jnius: the JVM starts here)."""
    from jnius import autoclass

    return autoclass(BRIDGE_CLASS)


class CardBridge:
    """Feeds commands and deactivations from the shim into one card, one at a time."""

    def __init__(self, card: Card, *, dispatch: Dispatch = "inline",
                 respond: Responder | None = None) -> None:
        if dispatch not in ("inline", "worker"):
            raise ValueError(f"dispatch must be 'inline' or 'worker', got {dispatch!r}")
        self.card = card
        self.dispatch = dispatch
        #: Lock every host call into the card takes (Card is not thread-safe).
        self.lock = threading.RLock()
        self._respond: Responder = respond or java_bridge().respond
        self._in_field = False
        self._queue: queue.SimpleQueue[tuple[int, bytes] | int | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        if dispatch == "worker":
            self._worker = threading.Thread(target=self._work, name="hcekit-card", daemon=True)
            self._worker.start()

    # -- called by the Java listener (any Java thread) -----------------------------

    def on_command(self, serial: int, command: bytes) -> bool:
        """True: an answer will come through ``respond``."""
        if self._worker is not None:
            self._queue.put((serial, command))
            return True
        self._respond(serial, self.transceive(command))
        return True

    def on_deactivated(self, reason: int) -> None:
        if self._worker is not None:
            self._queue.put(reason)
        else:
            self.field_off(reason)

    # -- the card side -----------------------------------------------------------------

    def transceive(self, command: bytes) -> bytes:
        with self.lock:
            if not self._in_field:
                self.card.field_on()
                self._in_field = True
            return self.card.transceive(command)

    def field_off(self, reason: int) -> None:
        try:
            why = DeactivationReason(reason)
        except ValueError:
            log.warning("unknown deactivation reason %r; treating it as link loss", reason)
            why = DeactivationReason.LINK_LOSS
        with self.lock:
            self._in_field = False
            self.card.field_off(why)

    def close(self) -> None:
        """Stop the worker (if any) after what it has queued."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if isinstance(item, int):
                    self.field_off(item)
                else:
                    serial, command = item
                    self._respond(serial, self.transceive(command))
            except Exception:
                # The shim's deadline answers 6F00 for a command left unanswered.
                log.exception("the Android bridge failed; the shim's deadline will answer")


@cache
def _listener_class() -> type:
    from jnius import PythonJavaClass, java_method

    class ApduListener(PythonJavaClass):  # type: ignore[misc]
        __javainterfaces__ = [LISTENER_INTERFACE]
        __javacontext__ = "app"

        def __init__(self, bridge: CardBridge) -> None:
            super().__init__()
            self.bridge = bridge

        @java_method("(I[B)Z")  # type: ignore[untyped-decorator]
        def onCommand(self, serial: int, command: Any) -> bool:
            return self.bridge.on_command(serial, bytes(command))

        @java_method("(I)V")  # type: ignore[untyped-decorator]
        def onDeactivated(self, reason: int) -> None:
            self.bridge.on_deactivated(reason)

    return ApduListener


def make_listener(bridge: CardBridge) -> Any:
    """A Java ``ApduListener`` backed by *bridge*. Keep a reference while Java holds it."""
    return _listener_class()(bridge)

"""The APDU path between the Java shim and a :class:`~hcekit.card.Card`.

The shim hands every command to an ``org.hcekit.bridge.ApduListener`` that
Python implements with pyjnius; Python answers through the static
``HcekitBridge.respond(serial, byte[])`` because pyjnius cannot return a Java
``byte[]`` from a Python callback. :class:`CardBridge` serialises every call
into the card (it is not thread-safe) and turns Android's lack of a
field-on event into one: the first command after a deactivation starts a tap.

Where the card runs (``Dispatch``):

``worker`` (default)
    a Python thread of its own ("hcekit-card", :meth:`CardBridge.serve`) that
    takes commands and deactivations from the shim with plain calls
    (``HcekitBridge.awaitEvent``; no Java-to-Python callback, which costs
    about 100 µs in pyjnius). ``processCommandApdu`` returns null at once, the
    main thread never waits for Python, and the deadline's 6F00 (posted from a
    timer) leaves on time however slow a plugin is.
``inline`` (opt-in, unsafe)
    Android's main thread, inside ``processCommandApdu``, through an
    ``ApduListener`` callback. A slow plugin blocks the main thread, and
    because ``sendResponseApdu`` only posts to that thread, the deadline's 6F00
    cannot leave before the plugin returns. Only for cards whose every answer
    takes microseconds; never for the WeChat-style facade, which waits for the
    app's answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal, Protocol

from hcekit.card import Card
from hcekit.events import DeactivationReason
from hcekit.polling import Decision, PollingFrame

from .observe import decode_frames

__all__ = ["SHIM_PACKAGE", "SERVICE_CLASS", "BRIDGE_CLASS", "CardBridge", "Dispatch", "ObserveMode",
           "EVENT_COMMAND", "EVENT_DEACTIVATED", "EVENT_POLLING",
           "DISPATCH_MODES", "java_bridge", "make_listener"]

log = logging.getLogger("hcekit.android")

SHIM_PACKAGE = "org.hcekit.android"
#: Plain Java, so one copy is shared even where the service runs in another class loader.
BRIDGE_PACKAGE = "org.hcekit.bridge"
#: ``HcekitBridge.awaitEvent`` kinds: kind byte, 4-byte big-endian value, data.
EVENT_COMMAND = 1
EVENT_DEACTIVATED = 2
EVENT_POLLING = 3
#: How long one ``awaitEvent`` call waits before the serving thread checks for a stop.
POLL_MS = 250

#: The class named in the manifest's ``<service android:name=…>``.
SERVICE_CLASS = f"{SHIM_PACKAGE}.HcekitApduService"
BRIDGE_CLASS = f"{BRIDGE_PACKAGE}.HcekitBridge"
LISTENER_INTERFACE = "org/hcekit/bridge/ApduListener"
#: The bridge's platform on Android (logging, starting the Python service).
BRIDGE_HOST_CLASS = f"{SHIM_PACKAGE}.AndroidBridgeHost"

Dispatch = Literal["worker", "inline"]


class ObserveMode(Protocol):
    """The host's side of Android 15's observe mode, as the card's thread needs it."""

    def enabled(self) -> bool:
        """``NfcAdapter.isObserveModeEnabled()`` now."""

    def decided(self, decision: Decision) -> None:
        """The polling loop so far led to *decision* (leave observe mode, go silent…)."""

    def tap_ended(self, decision: Decision) -> None:
        """The reader left; *decision* was the tap's last."""
DISPATCH_MODES: tuple[Dispatch, ...] = ("worker", "inline")
Responder = Callable[[int, bytes], Any]


@cache
def java_bridge() -> Any:
    """The ``HcekitBridge`` class through pyjnius (imports jnius: the JVM starts here)."""
    from jnius import autoclass

    return autoclass(BRIDGE_CLASS)


class CardBridge:
    """Feeds commands and deactivations from the shim into one card, one at a time."""

    def __init__(self, card: Card, *, respond: Responder | None = None,
                 observe: ObserveMode | None = None) -> None:
        self.card = card
        #: Where a tap's polling decision and its end go (the host's observe-mode calls).
        self.observe = observe
        #: Lock every host call into the card takes (Card is not thread-safe).
        self.lock = threading.RLock()
        self._respond: Responder = respond or java_bridge().respond
        self._in_field = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- worker dispatch: the card's own thread pulls events from the shim ---------------

    def start_serving(self) -> None:
        """Start the card's thread and make the shim queue events for it."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self.serve, name="hcekit-card", daemon=True)
        self._thread.start()
        java_bridge().startPulling()  # a command held since a cold start is queued now

    def stop_serving(self) -> None:
        """Detach from the shim and end the card's thread (after the event it is handling)."""
        if self._thread is None:
            return
        self._stopping.set()
        java_bridge().stopPulling()
        self._thread.join(timeout=10)
        self._thread = None

    def serve(self) -> None:
        """The card's thread: take events from the shim until :meth:`stop_serving`."""
        bridge = java_bridge()
        await_event = bridge.awaitEvent
        while not self._stopping.is_set():
            try:
                event = await_event(POLL_MS)
                if event is not None:
                    self.handle(bytes(event), fail=bridge.fail)
            except BaseException:  # never let the thread die (no signal reaches it: any
                # KeyboardInterrupt/SystemExit here is a plugin's); the deadline answers meanwhile
                log.exception("the Android card thread failed; continuing")

    def handle(self, event: bytes, *, fail: Callable[[int], Any]) -> None:
        """One ``awaitEvent`` event: answer a command (or fail it: 6F00 at once), or end a tap."""
        kind, value = event[0], int.from_bytes(event[1:5], "big")
        if kind == EVENT_COMMAND:
            if not self.on_command(value, event[5:]):
                fail(value)
        elif kind == EVENT_DEACTIVATED:
            self.on_deactivated(value)
        elif kind == EVENT_POLLING:
            self.on_polling(decode_frames(value, event[5:]))
        else:
            log.error("unknown event kind %d from the shim; ignored", kind)

    # -- a command or a deactivation, from either dispatch -----------------------------

    def on_command(self, serial: int, command: bytes) -> bool:
        """Answer *command* through ``respond``; False: the shim must answer 6F00 at once."""
        try:
            self._respond(serial, self.transceive(command))
        except BaseException:  # a plugin's KeyboardInterrupt/SystemExit too: 6F00, keep serving
            log.exception("the Android bridge failed on command #%d; answering 6F00", serial)
            return False
        return True

    def on_deactivated(self, reason: int) -> None:
        self.field_off(reason)

    def on_polling(self, frames: Sequence[PollingFrame]) -> None:
        """Polling frames (Android 15+): into the card, then the decision to the host."""
        with self.lock:
            if self.observe is not None:
                self.card.polling.observe_mode = self.observe.enabled()
            for frame in frames:
                self.card.polling_frame(frame)
            decision = self.card.polling.decision
        if self.observe is not None and frames:
            self.observe.decided(decision)

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
            decision = self.card.polling.decision
            self.card.polling.end_tap()
        if self.observe is not None:
            self.observe.tap_ended(decision)


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

"""Android 15 observe mode: the Python side of the shim and host, as pure functions.

The Java shim's ``processPollingFrames(List<PollingFrame>)`` override hands
each frame's getters over (:func:`frame_from_android`); the host feeds the
card (``Card.polling_frame``) on the card's worker and turns the tap's
:class:`~hcekit.polling.Decision` into ``NfcAdapter.setObserveModeEnabled``
calls (:func:`observe_mode_call`, :func:`observe_mode_after_tap`). At start
it registers the plugins' filters (:func:`filter_registrations`: one
``CardEmulation`` call each) and ``setShouldDefaultToObserveModeForService``,
after the device checks (:func:`observe_mode_downgrade`). None of this
touches the JVM, so it is tested without one.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from hcekit.polling import Decision, FrameType, PollingFilter, PollingFrame

__all__ = [
    "MIN_OBSERVE_MODE_API",
    "decode_frames",
    "encode_frames",
    "FilterRegistration",
    "filter_registrations",
    "frame_from_android",
    "observe_mode_after_tap",
    "observe_mode_call",
    "observe_mode_downgrade",
]

log = logging.getLogger("hcekit.android.observe")

#: ``Build.VERSION_CODES.VANILLA_ICE_CREAM``: observe mode, PollingFrame and the filter APIs.
MIN_OBSERVE_MODE_API = 35


@dataclass(frozen=True)
class FilterRegistration:
    """One ``CardEmulation`` call: ``method(component, value, auto_transact)``."""

    method: str
    value: str
    auto_transact: bool
    plugin: str


def filter_registrations(filters: Sequence[tuple[str, PollingFilter]]) -> list[FilterRegistration]:
    """The calls registering ``card.polling.filters()`` for the HCE service, in order.

    ``registerPollingLoopFilterForService(component, "6A02C30100", autoTransact)``
    for exact frames, ``registerPollingLoopPatternFilterForService`` for
    patterns; the values are already upper-case and valid, as Android
    normalises and checks them.
    """
    return [FilterRegistration(flt.android_method, flt.value, flt.auto_transact, plugin)
            for plugin, flt in filters]


def frame_from_android(frame_type: int, data: bytes | None, gain: int, timestamp: int,
                       triggered_auto_transact: bool) -> PollingFrame | None:
    """A :class:`PollingFrame` from ``PollingFrame``'s getters (None: a type this hcekit
    does not know, logged and left out rather than guessed)."""
    try:
        kind = FrameType(frame_type)
    except ValueError:
        log.warning("polling frame of unknown type %d (%r) left out", frame_type,
                    chr(frame_type) if 32 <= frame_type < 127 else "?")
        return None
    payload = bytes(data or b"")
    if kind in (FrameType.ON, FrameType.OFF):
        payload = b""  # field events carry no data (a controller may still send some)
    return PollingFrame(kind, payload, int(gain), int(timestamp), bool(triggered_auto_transact))


#: One frame as the shim's bridge carries it: type, triggered, gain, timestamp, data length.
_FRAME_HEAD = struct.Struct(">BBiqH")


def encode_frames(frames: Sequence[PollingFrame]) -> bytes:
    """Frames in the bridge's encoding (``HcekitBridge.pollingFrames``; the desktop reader too)."""
    return b"".join(_FRAME_HEAD.pack(int(f.type), int(f.triggered_auto_transact), f.gain,
                                     f.timestamp, len(f.data)) + f.data for f in frames)


def decode_frames(count: int, data: bytes) -> list[PollingFrame]:
    """The frames of one ``EVENT_POLLING`` (types hcekit does not know are left out, logged)."""
    frames = []
    offset = 0
    for _ in range(count):
        kind, triggered, gain, timestamp, length = _FRAME_HEAD.unpack_from(data, offset)
        offset += _FRAME_HEAD.size
        payload = data[offset:offset + length]
        offset += length
        frame = frame_from_android(kind, payload, gain, timestamp, bool(triggered))
        if frame is not None:
            frames.append(frame)
    return frames


def observe_mode_call(decision: Decision) -> bool | None:
    """The ``setObserveModeEnabled`` argument a tap's decision asks for, or None (no call).

    TRANSACT: ``false`` (answer this reader); SILENT: ``true`` (back to
    observing, also after a filter's autoTransact let the controller answer);
    OBSERVE: nothing to change. Android accepts the call only from the
    preferred service (foreground or wallet role); it returns false otherwise.
    """
    if decision is Decision.TRANSACT:
        return False
    if decision is Decision.SILENT:
        return True
    return None


def observe_mode_after_tap(observe_by_default: bool, decision: Decision) -> bool | None:
    """At ``onDeactivated``: re-enable observe mode the app disabled for one tap, or None.

    AOSP re-enables it after an autoTransact itself (``HostEmulationManager``,
    at field off); a tap the app let through with ``setObserveModeEnabled(false)``
    is the app's to close.
    """
    if observe_by_default and decision is Decision.TRANSACT:
        return True
    return None


def observe_mode_downgrade(api_level: int, observe_supported: bool | None, *,
                           plugins: Sequence[str]) -> str | None:
    """One log line when the phone cannot run observe mode for *plugins*, else None.

    *observe_supported*: ``NfcAdapter.isObserveModeSupported()`` (None below
    API 35, where the method does not exist). The plugins keep working: the
    phone answers every reader, as before Android 15.
    """
    if not plugins:
        return None
    names = ", ".join(plugins)
    if api_level < MIN_OBSERVE_MODE_API:
        return (f"observe mode needs Android 15 (API {MIN_OBSERVE_MODE_API}); this phone runs "
                f"API {api_level}: polling-loop filters of {names} are inactive and the card "
                "answers every reader")
    if not observe_supported:
        return (f"this phone's NFC controller cannot observe (isObserveModeSupported() is "
                f"false): polling-loop filters of {names} are inactive and the card answers "
                "every reader")
    return None

"""Calling a plugin's own hook functions: every failure becomes a status word or a log line.

The card calls owner-only hooks directly (:mod:`hcekit.hookspecs`), so the
rules pluggy would otherwise apply live here: an :class:`IsoError` answers its
status word, any other exception (``SystemExit`` included) answers 6F00 and is
logged with its traceback, and only ``KeyboardInterrupt`` goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .apdu import CommandApdu, ResponseApdu
from .context import AppContext
from .errors import IsoError
from .logs import get_logger
from .sw import SW

__all__ = ["HookFn", "call_app", "call_quietly", "normalise"]

log = get_logger("hcekit.card")

#: A plugin's own hook function, bound once at registration.
HookFn = Callable[..., Any]
_OK = int(SW.NO_ERROR)


def call_app(fn: HookFn | None, app: AppContext, command: CommandApdu,
             plugin: str) -> tuple[bytes, int]:
    """``hcekit_select``/``hcekit_process`` of *plugin* → response data and status word."""
    if fn is None:
        return b"", _OK
    try:
        result = fn(app, command)
    except IsoError as exc:
        log.debug("plugin %s answered %04X: %s", plugin, exc.sw, exc.message)
        return b"", exc.sw
    except KeyboardInterrupt:
        raise  # in-process, the user's Ctrl-C; hosts serving from threads catch it
    except BaseException:  # SystemExit from a plugin must not end the card's process
        log.exception("plugin %r failed on %s; answering 6F00", plugin, command.header.hex().upper())
        return b"", SW.UNKNOWN
    if type(result) is bytes:  # the common answer, without a further call
        return result, _OK
    return normalise(result, plugin)


def call_quietly(fn: HookFn | None, plugin: str, *args: Any) -> None:
    """A lifecycle hook (deselect, deactivated, shutdown): exceptions logged and ignored."""
    if fn is None:
        return
    try:
        fn(*args)
    except KeyboardInterrupt:
        raise
    except BaseException:
        log.exception("plugin %r failed in a lifecycle hook (ignored)", plugin)


def normalise(result: object, plugin: str) -> tuple[bytes, int]:
    """What an application hook may return → response data and status word."""
    if result is None:
        return b"", _OK
    if type(result) is bytes:
        return result, _OK
    if isinstance(result, ResponseApdu):
        return result.data, result.sw
    if isinstance(result, bytearray | memoryview):
        return bytes(result), _OK
    log.error("plugin %r returned %s; hooks return bytes, ResponseApdu or None",
              plugin, type(result).__name__)
    return b"", SW.UNKNOWN

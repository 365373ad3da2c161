"""APDU trace records and their readable, redacted form.

The card builds a :class:`TraceRecord` per exchange only when some plugin
implements ``hcekit_trace``. Secrets never reach logs: a record marked
``sensitive`` (the application called ``app.mark_sensitive()``, or a secure
channel is active) is formatted with lengths only unless ``reveal=True``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .hookspecs import hookimpl
from .sw import describe

__all__ = ["TraceRecord", "format_record", "LoggingTracer"]


@dataclass(frozen=True, slots=True)
class TraceRecord:
    command: bytes
    response: bytes
    #: DF name of the selected application after the exchange (None: nothing selected).
    aid: bytes | None
    plugin: str | None
    elapsed_ns: int
    sensitive: bool = False

    @property
    def sw(self) -> int:
        return int.from_bytes(self.response[-2:], "big") if len(self.response) >= 2 else -1


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


def format_record(record: TraceRecord, *, reveal: bool = False) -> str:
    """Two lines, ``>>`` command and ``<<`` response; payloads hidden when sensitive."""
    app = f" [{record.plugin}]" if record.plugin else ""
    sw = record.sw
    if record.sensitive and not reveal:
        head = _hex(record.command[:4])
        cmd = f"{head} <{max(0, len(record.command) - 4)} bytes redacted>"
        rsp = f"<{max(0, len(record.response) - 2)} bytes redacted> {_hex(record.response[-2:])}"
    else:
        cmd = _hex(record.command)
        rsp = _hex(record.response)
    micros = record.elapsed_ns / 1000
    return f">> {cmd}\n<< {rsp}  ({describe(sw) if sw >= 0 else '?'}, {micros:.0f} µs){app}"


class LoggingTracer:
    """A ready-made observer plugin: logs every exchange at INFO on ``hcekit.trace``."""

    def __init__(self, reveal: bool = False, logger: logging.Logger | None = None) -> None:
        self.reveal = reveal
        self.log = logger or logging.getLogger("hcekit.trace")

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self.log.info("%s", format_record(record, reveal=self.reveal))

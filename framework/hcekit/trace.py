"""APDU trace records and their readable, redacted form.

The card builds a :class:`TraceRecord` per exchange only when some plugin
implements ``hcekit_trace``. Secrets never reach a printout, a log or a
recording: one flag, ``record.sensitive``, decides, and every renderer (the
log tracer, ``hcekit send/tap/demo``, trace files, pcapng) shows such an
exchange with its header, lengths and status word only, unless ``reveal=True``
(``--reveal-secrets``). An exchange is sensitive when

* the application said so (``app.mark_sensitive()``: keys, cryptograms …);
* a secure channel is active;
* it contains a value a plugin marked secret (``plugin.mark_secret(value)``:
  a PAN, track 2 data, a PIN block, a key — :class:`SecretValues`);
* it is an ISO/IEC 7816-4 command whose data is reference data: VERIFY,
  CHANGE REFERENCE DATA, RESET RETRY COUNTER (:func:`carries_reference_data`),
  which a terminal can tell without knowing the card.

Those rules live in :mod:`hcekit.sensitivity` (re-exported here), which the
card imports at start; this module is imported only once something traces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .markers import hookimpl
from .sensitivity import SecretValues, carries_reference_data, is_sensitive
from .sw import describe

if TYPE_CHECKING:
    import logging

__all__ = ["LoggingTracer", "SecretValues", "TraceRecord", "carries_reference_data",
           "format_record", "is_sensitive", "redacted_hex"]

@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One exchange as a trace keeps it: command, answer, what was selected after it."""

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


def redacted_hex(command: bytes, response: bytes, *, hide: bool) -> tuple[str, str]:
    """Command and response as hex; with *hide*, only the header, lengths and status word."""
    if not hide:
        return _hex(command), _hex(response)
    cmd, rsp = _hex(command[:4]), _hex(response[-2:])
    if len(command) > 4:
        cmd += f" <{len(command) - 4} bytes redacted>"
    if len(response) > 2:
        rsp = f"<{len(response) - 2} bytes redacted> {rsp}"
    return cmd, rsp


def format_record(record: TraceRecord, *, reveal: bool = False) -> str:
    """Two lines, ``>>`` command and ``<<`` response; payloads hidden when sensitive."""
    app = f" [{record.plugin}]" if record.plugin else ""
    sw = record.sw
    cmd, rsp = redacted_hex(record.command, record.response, hide=record.sensitive and not reveal)
    micros = record.elapsed_ns / 1000
    return f">> {cmd}\n<< {rsp}  ({describe(sw) if sw >= 0 else '?'}, {micros:.0f} µs){app}"


class LoggingTracer:
    """A ready-made observer plugin: logs every exchange at INFO on ``hcekit.trace``."""

    def __init__(self, reveal: bool = False, logger: logging.Logger | None = None) -> None:
        self.reveal = reveal
        import logging

        self.log = logger or logging.getLogger("hcekit.trace")

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self.log.info("%s", format_record(record, reveal=self.reveal))

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .markers import hookimpl
from .sw import describe

if TYPE_CHECKING:
    import logging

__all__ = ["LoggingTracer", "SecretValues", "TraceRecord", "carries_reference_data",
           "format_record", "is_sensitive", "redacted_hex"]

#: ISO/IEC 7816-4 instructions whose command data is reference data (PINs,
#: passwords, PUKs): VERIFY (20, 21), CHANGE REFERENCE DATA (24, 25), RESET
#: RETRY COUNTER (2C, 2D). Only in the interindustry class (CLA b8 = 0).
REFERENCE_DATA_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D})
_CLA_PROPRIETARY = 0x80


def carries_reference_data(command: bytes) -> bool:
    """True for a VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER with data."""
    return (len(command) > 5 and not command[0] & _CLA_PROPRIETARY
            and command[1] in REFERENCE_DATA_INS)


class SecretValues:
    """Byte strings that must not appear in any printout: an exchange holding one is sensitive.

    A plugin adds its secrets once it knows them (``plugin.mark_secret(pan)``
    in ``hcekit_startup`` or after personalisation). Values shorter than
    :attr:`MIN_LENGTH` are refused: they would match ordinary data
    everywhere (mark the whole PIN block, not two BCD digits). Safe to read
    from any thread while a plugin adds values (the set is replaced, never
    changed in place).
    """

    MIN_LENGTH = 4

    def __init__(self, values: Iterable[bytes] = ()) -> None:
        self._values: frozenset[bytes] = frozenset()
        for value in values:
            self.add(value)

    def add(self, value: bytes | bytearray | memoryview) -> None:
        secret = bytes(value)
        if len(secret) < self.MIN_LENGTH:
            raise ValueError(f"a {len(secret)}-byte secret would redact ordinary data; mark "
                             f"values of at least {self.MIN_LENGTH} bytes (e.g. the whole "
                             "PIN block or PAN)")
        self._values = self._values | {secret}

    def discard(self, value: bytes) -> None:
        self._values = self._values - {bytes(value)}

    def found_in(self, *data: bytes) -> bool:
        """True when any secret occurs in any of *data*."""
        values = self._values
        return bool(values) and any(secret in chunk for secret in values for chunk in data)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never the values themselves
        return f"SecretValues({len(self._values)} value(s))"


def is_sensitive(command: bytes, response: bytes, secrets: SecretValues | None = None) -> bool:
    """What a renderer that has only the bytes can decide (the card adds its own marks)."""
    return carries_reference_data(command) or (
        secrets is not None and secrets.found_in(command, response))


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

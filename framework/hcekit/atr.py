"""ATRs a virtual contactless card presents through a PC/SC reader.

Plugins use :func:`contactless_atr` to answer ``hcekit_atr`` from their
historical bytes; hosts use :func:`check_atr` and :data:`DEFAULT_ATR`.

A contactless card has no ATR of its own; a PC/SC reader builds one from the
ISO 14443-4 activation (PC/SC part 3, section 3.1.3.2.3): ``3B 8n 80 01``,
the historical bytes (from the ATS for Type A, from ATQB / ATTRIB for Type
B), and the check byte TCK. Applications that look at the ATR — OpenSC's card
drivers, pcsc_scan's lookup — then see what they would see with a phone on a
real reader, so hcekit presents an ATR of this shape.

``3B 80 80 01 01`` is the same with *no* historical bytes: what many readers
report for a phone in HCE mode. OpenSC recognises it as "a contactless card
that told us nothing" and probes it with SELECTs (its PIV driver included),
which is what a PIV personality wants; choose it with ``--atr 3B80800101``
(or :data:`ATR_NO_HISTORICAL_BYTES`).
"""

from __future__ import annotations

from functools import reduce
from operator import xor
from typing import Any

import pluggy

from .errors import HcekitError, PluginLoadError
from .logs import get_logger

__all__ = [
    "ATR_NO_HISTORICAL_BYTES",
    "DEFAULT_ATR",
    "MAX_HISTORICAL_BYTES",
    "AtrError",
    "check_atr",
    "historical_bytes",
    "contactless_atr",
    "plugin_atr",
]

log = get_logger("hcekit.atr")

#: T0 high nibble 8: only TD1 follows; TD1 = 80: TD2 follows, T=0; TD2 = 01: T=1.
_PREFIX_TS = 0x3B
_TD1 = 0x80
_TD2 = 0x01
#: The most historical bytes an ATR holds (T0's low nibble).
MAX_HISTORICAL_BYTES = 15
MAX_ATR_LENGTH = 33


class AtrError(HcekitError, ValueError):
    """An ATR that PC/SC clients would reject."""


def contactless_atr(historical: bytes = b"") -> bytes:
    """The PC/SC part 3 ATR for an ISO 14443-4 card with these historical bytes."""
    if len(historical) > MAX_HISTORICAL_BYTES:
        raise AtrError(f"{len(historical)} historical bytes; an ATR holds at most "
                       f"{MAX_HISTORICAL_BYTES}")
    body = bytes([0x80 | len(historical), _TD1, _TD2]) + historical
    return bytes([_PREFIX_TS]) + body + bytes([reduce(xor, body, 0)])


def check_atr(atr: bytes) -> bytes:
    """Reject ATRs pcsc-lite would not pass on: wrong length, bad TS, bad TCK."""
    if not 2 <= len(atr) <= MAX_ATR_LENGTH:
        raise AtrError(f"an ATR is 2 to {MAX_ATR_LENGTH} bytes, got {len(atr)}")
    if atr[0] not in (0x3B, 0x3F):
        raise AtrError(f"TS must be 3B (direct) or 3F (inverse), got {atr[0]:02X}")
    # TCK is present when any protocol other than T=0 is indicated; then the
    # XOR of T0 … TCK is zero. Walk the interface bytes to find out.
    y, index, protocols = atr[1] >> 4, 1, set[int]()
    historical = atr[1] & 0x0F
    while True:
        index += bin(y & 0x07).count("1")  # TAi, TBi, TCi
        if not y & 0x08:  # no TDi: interface bytes end here
            break
        index += 1
        if index >= len(atr):
            raise AtrError("ATR truncated inside its interface bytes")
        y = atr[index] >> 4
        protocols.add(atr[index] & 0x0F)
    expected = index + 1 + historical
    has_tck = bool(protocols - {0})
    if len(atr) != expected + has_tck:
        raise AtrError(f"ATR length {len(atr)} does not match its T0/TDi bytes "
                       f"(expected {expected + has_tck})")
    if has_tck and reduce(xor, atr[1:], 0):
        raise AtrError("ATR check byte TCK is wrong")
    return atr


def historical_bytes(atr: bytes) -> bytes:
    """T1…TK of a valid ATR: for a contactless card, the ATS historical bytes the reader saw."""
    check_atr(atr)
    y, index = atr[1] >> 4, 1
    while True:
        index += bin(y & 0x07).count("1")
        if not y & 0x08:
            break
        index += 1
        y = atr[index] >> 4
    return atr[index + 1:index + 1 + (atr[1] & 0x0F)]


#: What readers report for a phone that sends no historical bytes.
ATR_NO_HISTORICAL_BYTES = contactless_atr(b"")

#: Default: a contactless ATR whose historical bytes say who we are: category
#: indicator 80 (compact-TLV follows), then tag 5 "card issuer's data", length
#: 6, "hcekit" — ``3B 88 80 01 80 56 68 63 65 6B 69 74 xx``. Tools recognise a
#: contactless ISO 14443-4 card; people reading a trace recognise hcekit.
DEFAULT_ATR = contactless_atr(b"\x80\x56hcekit")


def _rank(impl: pluggy.HookImpl) -> int:
    return 1 if impl.tryfirst else -1 if impl.trylast else 0


def plugin_atr(pm: pluggy.PluginManager, **kwargs: Any) -> bytes | None:
    """The ATR the plugins ask for through ``hcekit_atr``, checked; None when none does.

    Not pluggy's "last registered is called first" (an accident of load
    order): every implementation is asked, the highest rank answering wins
    (``tryfirst`` > unmarked > ``trylast``), and between answers of equal rank
    the plugin whose name sorts first wins, with a warning naming all of them.
    """
    answers: list[tuple[int, str, object]] = []
    for impl in pm.hook.hcekit_atr.get_hookimpls():
        answer = impl.function(*[kwargs[name] for name in impl.argnames])
        if answer is not None:
            answers.append((-_rank(impl), impl.plugin_name, answer))
    if not answers:
        return None
    answers.sort(key=lambda a: (a[0], a[1]))
    rank, winner, atr = answers[0]
    tied = [name for r, name, _ in answers if r == rank]
    if len(tied) > 1:
        log.warning("plugins %s all answer hcekit_atr; presenting %r's ATR (first by name). "
                    "Mark one @hookimpl(tryfirst=True) or give the host an explicit ATR "
                    "(hcekit serve --atr HEX)", ", ".join(repr(n) for n in tied), winner)
    try:
        return check_atr(bytes(atr))  # type: ignore[call-overload]
    except (AtrError, TypeError) as exc:
        raise PluginLoadError(f"hcekit_atr of plugin {winner!r} answered {atr!r}: {exc}") from exc

"""The conformance checks, one function each. A check raises :class:`CheckFailed` or returns.

Each check builds its own cards through the :class:`~.harness.Harness`, so
the checks are independent and can run in any order (or one at a time from
pytest). A check that does not apply raises :class:`CheckSkipped`.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aid import AidKind, Claim, find_conflicts
from ..apdu import (
    EXTENDED_MAX_NE,
    INS_GET_RESPONSE,
    INS_SELECT,
    P1_SELECT_BY_DF_NAME,
    SHORT_MAX_NE,
    CommandApdu,
    ResponseApdu,
)
from ..card import Card
from ..errors import ApduFormatError, HcekitError
from ..events import DeactivationReason
from ..hosts.loopback import LoopbackHost
from ..plugins import ENTRY_POINT_GROUP
from ..ppse import CORE_OWNER, core_claims
from ..store import MemoryStore, SqliteStore
from ..sw import SW, describe
from ..terminal import LoopbackTransport, Terminal
from ..tlv import TlvError
from ..tlv import parse as parse_tlv
from .harness import Harness, LogCapture, capture_logs

__all__ = ["CheckFailed", "CheckSkipped", "CHECKS", "Check", "ReadProbe", "hex_read", "ne_probes",
           "check_ne", "installed_claims"]


class CheckFailed(AssertionError):
    """The plugin broke a rule; the message says which and how to fix it."""


class CheckSkipped(HcekitError):
    """The check does not apply to this plugin (the message says why)."""


#: A check: gets a harness and a scratch directory, raises CheckFailed / CheckSkipped.
Check = Callable[[Harness, Path], None]

#: ISO/IEC 7816-3 reserves INS 6X and 9X (they read as procedure bytes on T=0).
INVALID_INS = (0x60, 0x6F, 0x90, 0x9F)
_SUCCESS_SW1 = (0x90, 0x61, 0x62, 0x63)
_SHOW = 8  # failure lines quoted in a report


def _select(aid: bytes) -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, P1_SELECT_BY_DF_NAME, 0x00, aid, 256)


def _select_name(claim: Claim) -> bytes:
    """A DF name that routes to *claim* (a prefix claim gets one extra byte when room)."""
    if claim.kind is AidKind.PREFIX and len(claim.aid) < 16:
        return claim.aid + b"\x01"
    return claim.aid


def _ok(sw: int) -> bool:
    return (sw >> 8) in _SUCCESS_SW1


def _claims_or_skip(h: Harness) -> list[Claim]:
    claims = h.claims()
    if not claims:
        raise CheckSkipped(f"{h.plugin.name} claims no AIDs (an observer plugin?)")
    return claims


def _well_formed(response: bytes, command: bytes) -> ResponseApdu:
    if not isinstance(response, bytes) or len(response) < 2:
        raise CheckFailed(f"command {command.hex().upper()} got a malformed response "
                          f"{response!r} (a response is data + SW1 SW2)")
    return ResponseApdu.parse(response)


def _no_failures(h: Harness, logs: LogCapture, during: str) -> None:
    failures = list(dict.fromkeys(logs.plugin_failures(h.plugin.name)))  # unique, in order
    if failures:
        shown = "\n  ".join(failures[:_SHOW])
        if len(failures) > _SHOW:
            shown += f"\n  … and {len(failures) - _SHOW} more"
        raise CheckFailed(
            f"{h.plugin.name} raised an unexpected exception {during} (the card answered 6F00 "
            f"or ignored it); raise hcekit.IsoError(SW.…) for bad input instead:\n  {shown}"
        )


# -- claims -------------------------------------------------------------------------------


def check_claims(h: Harness, tmp: Path) -> None:
    """Claims load, are valid AID filters, overlap no installed plugin nor the core's PPSE."""
    try:
        claims = h.claims()
    except HcekitError as exc:
        raise CheckFailed(f"{h.plugin.name} does not load on a card: {exc}") from exc
    if not claims:
        raise CheckSkipped(f"{h.plugin.name} claims no AIDs (an observer plugin?)")
    owned = [(h.plugin.name, c) for c in claims] + installed_claims(exclude=h.plugin.name)
    conflicts = [c for c in find_conflicts(owned) if h.plugin.name in (c[0], c[2])]
    if conflicts:
        text = "; ".join(f"{_owner(a)} {ca.filter} overlaps {_owner(b)} {cb.filter}"
                         for a, ca, b, cb in conflicts)
        raise CheckFailed(f"AID claims conflict with installed plugins or the core: {text}")


def _owner(name: str) -> str:
    return "the core's PPSE" if name == CORE_OWNER else name


def installed_claims(exclude: str | None = None) -> list[tuple[str, Claim]]:
    """``(owner, claim)`` of every installed plugin but *exclude* that loads, and the core's
    own (the PPSE): what a card holding them all would route."""
    owned: list[tuple[str, Claim]] = []
    with capture_logs():  # other plugins' start-up chatter is not the caller's output
        for name, obj in installed_plugins_quietly():
            if name == exclude:
                continue
            try:
                with Card([(name, obj)]) as card:
                    owned.extend((n, c) for n, c in card.claims() if n == name)
            except Exception:  # another plugin's breakage is its own check's business
                continue
    return owned + core_claims()


def installed_plugins_quietly() -> Iterator[tuple[str, object]]:
    """Installed plugins that load; one broken entry point does not hide the others."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception:
            continue
        if isinstance(obj, type):
            try:
                obj = obj()
            except Exception:
                continue
        yield ep.name, obj


# -- SELECT -------------------------------------------------------------------------------


def check_select(h: Harness, tmp: Path) -> None:
    """SELECT of every claim succeeds, routes to the plugin, returns parseable FCI; reselect works."""
    claims = _claims_or_skip(h)
    with capture_logs() as logs, h.card(probe=True) as card:
        terminal = h.terminal(card)
        with terminal.tap():
            for claim in claims:
                name = _select_name(claim)
                for attempt in ("first", "repeated"):
                    response = terminal.select(name)
                    if not _ok(response.sw):
                        raise CheckFailed(
                            f"SELECT {name.hex().upper()} ({attempt}) answered {response.sw:04X} "
                            f"{describe(response.sw)}; a claimed AID must select with 9000")
                    selected = card.selected
                    if selected is None or selected.plugin.name != h.plugin.name:
                        raise CheckFailed(f"SELECT {name.hex().upper()} did not select "
                                          f"{h.plugin.name}")
                    if response.data[:1] == b"\x6f":
                        try:
                            parse_tlv(response.data, strict=True)
                        except TlvError as exc:
                            raise CheckFailed(
                                f"SELECT {name.hex().upper()}: the FCI (tag 6F) is not valid "
                                f"BER-TLV: {exc.message}") from exc
                unclaimed = bytes.fromhex("F0FFFFFFFFFFFFFE")
                if not any(c.matches(unclaimed) for c in claims):
                    miss = terminal.select(unclaimed)
                    if miss.sw != SW.FILE_NOT_FOUND or card.selected is None \
                            or card.selected.plugin.name != h.plugin.name:
                        raise CheckFailed("a failed SELECT of an unknown AID must answer 6A82 and "
                                          "leave the current selection as it was")
    _no_failures(h, logs, "during SELECT")


# -- unknown INS / CLA ---------------------------------------------------------------------


def check_unknown_ins(h: Harness, tmp: Path) -> None:
    """Invalid/unknown INS answer 6D00 (or 6E00 when the class itself is refused)."""
    claims = _claims_or_skip(h)
    probes = [(0x00, ins) for ins in INVALID_INS]
    probes += [(int(p[0]), int(p[1])) for p in h.plugin.options().get("unknown_ins", [])]
    with capture_logs() as logs, h.card() as card:
        terminal = h.terminal(card)
        with terminal.tap():
            for claim in claims:
                for cla, ins in probes:
                    terminal.select(_select_name(claim))
                    response = terminal.transmit(CommandApdu(cla, ins, 0, 0))
                    if response.sw not in (SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED):
                        raise CheckFailed(
                            f"{cla:02X} {ins:02X} 00 00 (INS not supported) answered "
                            f"{response.sw:04X} {describe(response.sw)}; expected 6D00 "
                            f"(INS_NOT_SUPPORTED) or 6E00 if CLA {cla:02X} is refused — raise "
                            f"IsoError(SW.INS_NOT_SUPPORTED) for an INS you do not implement")
    _no_failures(h, logs, "on an unknown INS")


def check_unknown_cla(h: Harness, tmp: Path) -> None:
    """CLA FF answers 6E00, logical channels 6881, declared unknown classes 6E00."""
    claims = _claims_or_skip(h)
    declared = [int(c) for c in h.plugin.options().get("unknown_cla", [])]
    expected = [(0xFF, SW.CLA_NOT_SUPPORTED), (0x01, SW.LOGICAL_CHANNEL_NOT_SUPPORTED),
                (0x03, SW.LOGICAL_CHANNEL_NOT_SUPPORTED)]
    expected += [(cla, SW.CLA_NOT_SUPPORTED) for cla in declared]
    with capture_logs() as logs, h.card() as card:
        terminal = h.terminal(card)
        with terminal.tap():
            for claim in claims:
                for cla, sw in expected:
                    terminal.select(_select_name(claim))
                    response = terminal.transmit(CommandApdu(cla, 0xB0, 0, 0, b"", 256))
                    if response.sw != sw:
                        raise CheckFailed(
                            f"CLA {cla:02X} answered {response.sw:04X} {describe(response.sw)}; "
                            f"expected {sw:04X} {describe(sw)}")
    _no_failures(h, logs, "on an unknown CLA")


# -- malformed input -----------------------------------------------------------------------

#: Byte strings that are not command APDUs; each must get a status word, never a crash.
MALFORMED = (
    b"",
    b"\x00",
    b"\x00\xa4",
    b"\x00\xa4\x04",
    b"\x00\xb0\x00\x00\x00\x00",          # 6 bytes, zero 5th byte
    b"\x00\xd6\x00\x00\x05\x01\x02",      # Lc 5, 2 data bytes
    b"\x00\xd6\x00\x00\x01\x01\x00\x00",  # trailing byte after Le
    b"\x00\xd6\x00\x00\x00\x00\x00\x01",  # extended Lc 0 with data
    b"\x00\xd6\x00\x00\x00\x00\x05\x01",  # extended Lc 5, 1 data byte
    b"\x80\x10\x00\x00\xff" + b"\x00" * 10,
)


def _sweep(seed: int) -> Iterator[bytes]:
    """Well-formed commands with every INS under common classes, with odd parameters and data."""
    rng = random.Random(seed)
    for cla in (0x00, 0x80, 0x84, 0x90):
        for ins in range(256):
            if ins in (INS_SELECT, INS_GET_RESPONSE):
                continue
            p1, p2 = rng.randrange(256), rng.randrange(256)
            yield CommandApdu(cla, ins, 0, 0, b"", 256).to_bytes()
            yield CommandApdu(cla, ins, p1, p2, b"\xff", None).to_bytes()
            yield CommandApdu(cla, ins, p1, p2, rng.randbytes(rng.randrange(1, 40)), 256).to_bytes()
            yield CommandApdu(cla, ins, 0, 0, b"\x00" * 255, 256).to_bytes()


def exercise(h: Harness, card: Card, claims: list[Claim], seed: int = 7816) -> None:
    """Malformed bytes then the sweep, each after a fresh SELECT; every answer well-formed."""
    card.field_on()
    names = [_select_name(c) for c in claims]
    for i, raw in enumerate([*MALFORMED, *_sweep(seed)]):
        select = _select(names[i % len(names)]).to_bytes()
        _well_formed(card.transceive(select), select)
        _well_formed(card.transceive(raw), raw)
    card.field_off(DeactivationReason.LINK_LOSS)


Send = Callable[[Terminal, "int | None", bool], ResponseApdu]


@dataclass(frozen=True)
class ReadProbe:
    """A read the Ne check repeats with several Le values.

    ``send(terminal, le, extended)`` gets a terminal with the field on and nothing
    selected (no automatic GET RESPONSE), sends the read with that Le (``None``: no Le
    field, case 1) and returns the plain response — a plugin behind secure messaging
    wraps and unwraps itself, keeping its outer APDU extended so nothing chains.
    """

    name: str
    send: Send
    #: READ BINARY: a case-1 command must get no data back.
    read_binary: bool = False
    #: The data is the same every time (a file), not only its length (a fresh FCI).
    same_data: bool = True
    #: READ BINARY by offset: the same read *n* bytes further on (to find the end of file).
    further: Callable[[int], ReadProbe] | None = None


def hex_read(aid: bytes | str, read: str, before: tuple[str, ...] = ()) -> ReadProbe:
    """A declared read: SELECT *aid*, send the *before* commands (hex, each must succeed),
    then *read* (hex header [+ Lc data], no Le) with the Le the check chooses."""
    name = bytes.fromhex(aid) if isinstance(aid, str) else aid
    base = CommandApdu.from_hex(read)
    by_offset = base.ins == _INS_READ_BINARY[0] and not base.p1 & 0x80

    def further(n: int) -> ReadProbe:
        offset = ((base.p1 << 8) | base.p2) + n
        moved = CommandApdu(base.cla, base.ins, offset >> 8, offset & 0xFF, base.data)
        return hex_read(name, moved.to_bytes().hex().upper(), before)

    def send(terminal: Terminal, le: int | None, extended: bool) -> ResponseApdu:
        selected = terminal.select(name)
        if not _ok(selected.sw):
            raise CheckFailed(f"SELECT {name.hex().upper()} for a declared read answered "
                              f"{selected.sw:04X}")
        for text in before:
            answer = terminal.transmit(text)
            if not _ok(answer.sw):
                raise CheckFailed(f"declared read preamble {text} answered {answer.sw:04X}")
        command = CommandApdu(base.cla, base.ins, base.p1, base.p2, base.data, le, extended)
        return terminal.transmit(command)

    return ReadProbe(f"{read} after SELECT {name.hex().upper()}", send,
                     read_binary=base.ins in _INS_READ_BINARY,
                     further=further if by_offset and base.p1 < 0x7F else None)


_INS_READ_BINARY = (0xB0, 0xB1)
#: Answers with data: 9000, 61xx (more to come), 62xx warnings, 91xx (ISO-wrapped DESFire).
_NE_SUCCESS_SW1 = (0x90, 0x61, 0x62, 0x91)


def _select_probe(name: bytes) -> ReadProbe:
    def send(terminal: Terminal, le: int | None, extended: bool) -> ResponseApdu:
        return terminal.transmit(CommandApdu(0x00, INS_SELECT, P1_SELECT_BY_DF_NAME, 0x00,
                                             name, le, extended))

    return ReadProbe(f"SELECT {name.hex().upper()}", send, same_data=False)


def ne_probes(h: Harness) -> list[ReadProbe]:
    """SELECT of every claim, plus the reads the plugin declares (``conformance["reads"]``:
    :class:`ReadProbe` objects or ``{"aid", "read", "before"}`` dicts of hex)."""
    probes = [_select_probe(_select_name(c)) for c in _claims_or_skip(h)]
    for entry in h.plugin.options().get("reads", []):
        if isinstance(entry, ReadProbe):
            probes.append(entry)
        else:
            probes.append(hex_read(entry["aid"], entry["read"], tuple(entry.get("before", ()))))
    return probes


def check_ne(h: Harness, probes: list[ReadProbe]) -> None:
    """ISO/IEC 7816-4 §5.1: short Le 00 is Ne = 256, extended 0000 is 65536, no Le is Ne = 0.

    Each probe runs on one fresh card with Le = 0000 (extended: everything there is), 00,
    FF and, for READ BINARY, without Le; the answers must be the first min(Ne, all) bytes
    of the same data (a card answering 255 bytes to Le 00 fails), and a case-1 READ BINARY
    must return no data.
    """
    for probe in probes:
        with h.card() as card:
            terminal = Terminal(LoopbackTransport(LoopbackHost(card)), auto_get_response=False,
                                auto_resend_6c=False)
            with terminal.tap():
                _check_probe(probe, terminal)


def _check_probe(probe: ReadProbe, terminal: Terminal) -> None:
    everything = probe.send(terminal, EXTENDED_MAX_NE, True)
    if everything.sw1 not in _NE_SUCCESS_SW1:
        raise CheckFailed(f"{probe.name} with extended Le 0000 answered {everything.sw:04X}")
    total = everything.data
    for le, label in ((SHORT_MAX_NE, "00"), (0xFF, "FF")):
        got = probe.send(terminal, le, False)
        expected = min(le, len(total))
        if len(got.data) != expected or (probe.same_data and got.data != total[:expected]):
            raise CheckFailed(
                f"{probe.name} with Le {label} returned {len(got.data)} bytes (SW "
                f"{got.sw:04X}); Le {label} means Ne = {le} (ISO/IEC 7816-4 §5.1) and Le "
                f"0000 gave {len(total)} bytes, so the answer is the first {expected} — "
                f"answer at most command.le bytes and let the core chain the rest")
    short = probe.send(terminal, SHORT_MAX_NE, False)
    if probe.further is not None and len(short.data) < SHORT_MAX_NE and short.sw == SW.NO_ERROR:
        # Le 00 asks for everything up to the end of the file (ISO/IEC 7816-4 READ BINARY):
        # fewer than 256 bytes with 9000 says the file ends there
        beyond = probe.further(len(short.data)).send(terminal, 1, False)
        if beyond.data:
            raise CheckFailed(
                f"{probe.name} with Le 00 returned {len(short.data)} bytes and 9000, yet the "
                f"file goes on at offset +{len(short.data)}; Le 00 means Ne = 256 (ISO/IEC "
                f"7816-4 §5.1): return the file up to its end within 256 bytes")
    if probe.read_binary:
        case1 = probe.send(terminal, None, False)
        if case1.data:
            raise CheckFailed(
                f"{probe.name} without Le (case 1) returned {len(case1.data)} bytes; no Le "
                f"means Ne = 0 (ISO/IEC 7816-4 §5.1): answer 6700 (hcekit.read_binary does)")


def check_malformed(h: Harness, tmp: Path) -> None:
    """Malformed APDUs and odd parameters/data for every INS never crash the plugin; Ne rules."""
    claims = _claims_or_skip(h)
    with capture_logs() as logs, h.card() as card:
        for raw in MALFORMED:
            try:
                CommandApdu.parse(raw)
                raise CheckFailed(f"{raw.hex()} was meant to be malformed")  # pragma: no cover
            except ApduFormatError:
                pass
        try:
            exercise(h, card, claims)
        except CheckFailed:
            raise
        except Exception as exc:
            raise CheckFailed(f"Card.transceive raised {type(exc).__name__}: {exc}") from exc
        _no_failures(h, logs, "on malformed or unexpected input")
        card.field_on()
        response = card.transceive(_select(_select_name(claims[0])).to_bytes())
        if not _ok(ResponseApdu.parse(response).sw):
            raise CheckFailed("after the malformed-input sweep the plugin no longer selects: "
                              f"{response.hex().upper()}")
        check_ne(h, ne_probes(h))
        _no_failures(h, logs, "on reads with Le 00, FF, 0000 and without Le")


# -- deselect / deactivation ------------------------------------------------------------------


def check_deselect(h: Harness, tmp: Path) -> None:
    """Deselect (another AID), field loss and DESELECTED deactivation are handled cleanly."""
    claims = _claims_or_skip(h)
    probe = h.probe_aid()
    with capture_logs() as logs, h.card(probe=True) as card:
        name = _select_name(claims[0])
        select = _select(name).to_bytes()
        card.field_on()
        _expect_selected(card, h, select, "SELECT")
        if probe is not None:
            card.transceive(_select(probe).to_bytes())
            if card.selected is None or card.selected.plugin.name == h.plugin.name:
                raise CheckFailed("selecting another application did not deselect the plugin")
            _expect_selected(card, h, select, "SELECT after a deselect")
        for reason in (DeactivationReason.LINK_LOSS, DeactivationReason.DESELECTED):
            card.field_off(reason)
            card.field_on()
            stray = card.transceive(CommandApdu(0x00, 0xB0, 0, 0, b"", 256).to_bytes())
            if stray != SW.UNKNOWN.to_bytes(2, "big"):
                raise CheckFailed(f"after deactivation ({reason.name}) a command without SELECT "
                                  f"answered {stray.hex().upper()}, not 6F00")
            _expect_selected(card, h, select, f"SELECT after deactivation ({reason.name})")
        card.field_off(DeactivationReason.LINK_LOSS)
    _no_failures(h, logs, "in deselect/deactivated")


def _expect_selected(card: Card, h: Harness, select: bytes, what: str) -> None:
    response = ResponseApdu.parse(card.transceive(select))
    if not _ok(response.sw) or card.selected is None \
            or card.selected.plugin.name != h.plugin.name:
        raise CheckFailed(f"{what} answered {response.sw:04X} {describe(response.sw)}")


# -- persistence -------------------------------------------------------------------------------


def _snapshot(card: Card, name: str) -> dict[str, bytes]:
    store = card.plugins[name].store
    return {k: store.get(k) or b"" for k in store.keys()}


def check_restart(h: Harness, tmp: Path) -> None:
    """State written in one card life is there, unchanged, after close and reopen (SQLite)."""
    claims = _claims_or_skip(h)
    path = tmp / f"{h.plugin.name}-restart.sqlite"
    store = SqliteStore(path)
    with capture_logs() as logs:
        try:
            with h.card(store) as card:
                failures = h.run_demo_scripts(card)
                card.field_on()
                card.transceive(_select(_select_name(claims[0])).to_bytes())
                card.field_off(DeactivationReason.LINK_LOSS)
                before = _snapshot(card, h.plugin.name)
        finally:
            store.close()
        if failures:
            raise CheckFailed("demo scripts failed on a fresh store:\n  " + "\n  ".join(failures))
        store = SqliteStore(path)
        try:
            with h.card(store) as card:
                after = _snapshot(card, h.plugin.name)
                failures = h.run_demo_scripts(card)
        finally:
            store.close()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        raise CheckFailed(
            f"the store changed across a restart (close, reopen, hcekit_startup): keys "
            f"{', '.join(changed)} — personalise only when a key is missing, and keep state in "
            f"the store rather than in the plugin object")
    if failures:
        raise CheckFailed("demo scripts failed after a restart:\n  " + "\n  ".join(failures))
    _no_failures(h, logs, "across a restart")


# -- secrets --------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(
    r"key|secret|pin|seed|master|kek|passw|pwd|token|priv|otp|\bk_?(?:enc|mac|dek|s)\b|\bdek\b",
    re.IGNORECASE)
_PUBLIC_NAME = re.compile(r"pub|cert|kid|key_?id|keyid|version|label|name", re.IGNORECASE)
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2}){8,}$")
_WINDOW = 8


def _secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _PUBLIC_NAME.search(name)


def _json_secrets(value: Any, key: str = "") -> Iterator[bytes]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_secrets(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _json_secrets(v, key)
    elif isinstance(value, str) and _secret_name(key) and _HEX.match(value):
        yield bytes.fromhex(value)


def _private_key_secrets(raw: bytes) -> list[bytes] | None:
    """The secret numbers of a DER/PEM private key (its public half may be on the wire)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

    try:
        if raw.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError):
        return None
    numbers: list[int] = []
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = [key.private_numbers().private_value]
    elif isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        numbers = [n.d, n.p, n.q]
    elif isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey |
                    x25519.X25519PrivateKey | x448.X448PrivateKey):
        return [key.private_bytes_raw()]
    return [v.to_bytes((v.bit_length() + 7) // 8, "big") for v in numbers]


def secret_material(values: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """Store entries that look like key material: (store key, bytes of at least 8).

    A DER/PEM private key contributes only its private numbers, so a public key
    or certificate legitimately sent to the reader does not count as a leak.
    """
    found: list[tuple[str, bytes]] = []
    for key, raw in values.items():
        private = _private_key_secrets(raw) if raw[:1] in (b"0", b"-") else None
        if private is not None:
            found.extend((key, s) for s in private if len(s) >= _WINDOW)
            continue
        try:
            decoded = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            decoded = None
        if isinstance(decoded, dict | list):
            found.extend((key, s) for s in _json_secrets(decoded, key) if len(s) >= _WINDOW)
        elif _secret_name(key) and len(raw) >= _WINDOW:
            text = raw.decode("ascii", "replace")
            found.append((key, bytes.fromhex(text) if _HEX.match(text) else raw))
    return found


def _leaks(secret: bytes, haystack: str) -> bool:
    for i in range(len(secret) - _WINDOW + 1):
        window = secret[i:i + _WINDOW]
        for form in (window.hex(), window.hex().upper(), window.hex(" ").upper()):
            if form in haystack:
                return True
    return base64.b64encode(secret).decode() in haystack


def check_secrets(h: Harness, tmp: Path) -> None:
    """No key material from the plugin's store appears in the (redacted) trace or the logs."""
    claims = _claims_or_skip(h)
    with capture_logs() as logs, h.card(MemoryStore(), record=True) as card:
        h.run_demo_scripts(card)
        exercise(h, card, claims, seed=14443)
        values = _snapshot(card, h.plugin.name)
    secrets = secret_material(values)
    trace, log_text = h.trace.getvalue(), logs.text()
    leaks = [f"{where}: store key {key!r}" for key, secret in secrets
             for where, text in (("trace", trace), ("log", log_text)) if _leaks(secret, text)]
    if leaks:
        raise CheckFailed(
            "key material appears in clear: " + "; ".join(dict.fromkeys(leaks)) +
            " — call app.mark_sensitive() in exchanges that carry keys, PINs or cryptograms, "
            "and never log them")
    if not secrets:
        raise CheckSkipped("no key material found in the plugin's store to look for "
                           "(store keys named like key/secret/pin/seed…)")


#: Every check by name, in the order ``hcekit check`` runs them.
CHECKS: dict[str, Check] = {
    "claims": check_claims,
    "select": check_select,
    "unknown-ins": check_unknown_ins,
    "unknown-cla": check_unknown_cla,
    "malformed": check_malformed,
    "deselect": check_deselect,
    "restart": check_restart,
    "secrets": check_secrets,
}

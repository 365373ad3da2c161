"""ISO/IEC 7816-4 secure messaging: wrap and unwrap APDUs (both sides).

The wire format (ISO/IEC 7816-4 §10, profiled by ICAO Doc 9303 Part 11 §9.8):

command  ``CLA* INS P1 P2  Lc  [87 L 01‖C | 85 L C] [97 L Le] 8E 08 MAC  Le'``
response ``[87 L 01‖C | 85 L C] 99 02 SW1SW2 8E 08 MAC  SW1 SW2``

* C is the method-2-padded data encrypted by the suite; DO 87 carries the
  padding-content indicator 01 (even INS), DO 85 does not (odd INS, whose data
  is BER-TLV).
* The command MAC covers ``SSC ‖ pad(CLA* INS P1 P2) ‖ DOs`` when the class
  byte says the header is authenticated (first interindustry CLA b4b3 = 11,
  e.g. 0C), and ``SSC ‖ DOs`` when not (b4b3 = 10, or further interindustry
  CLA with b6 = 1). The response MAC covers ``SSC ‖ DOs``. MAC input is padded.
* Le' is 00 (or 0000 extended): the protected response always has data.
* An unauthenticated header leaves INS/P1/P2 open to change, so both sides
  refuse it unless the caller passes ``require_header_auth=False``: the
  card answers 6882, the terminal raises ``ValueError`` for a further
  interindustry class byte (which cannot express header authentication).

These functions are stateless; the caller passes the SSC already
incremented for this message (ICAO: increment before every command and
every response). :mod:`hcekit.sm.session` keeps that state. Every defect
raises :class:`~hcekit.sm.SmError`: 6987 when a mandatory DO is missing,
6988 when one is wrong. Messages never carry keys or plaintext.
"""

from __future__ import annotations

from ..apdu import (
    CLA_FURTHER_INTERINDUSTRY,
    CLA_FURTHER_MASK,
    EXTENDED_MAX_NE,
    SHORT_MAX_NC,
    SHORT_MAX_NE,
    CommandApdu,
    ResponseApdu,
)
from ..sw import SW
from .errors import SmError, incorrect, missing
from .mac import tags_equal
from .padding import pad, unpad
from .suites import CipherSuite

__all__ = [
    "TAG_CRYPTOGRAM_PI",
    "TAG_CRYPTOGRAM",
    "TAG_LE",
    "TAG_STATUS",
    "TAG_MAC",
    "is_protected",
    "authenticates_header",
    "protected_cla",
    "wrap_command",
    "unwrap_command",
    "wrap_response",
    "unwrap_response",
]

#: DO 87: padding-content indicator byte ‖ cryptogram (even INS).
TAG_CRYPTOGRAM_PI = 0x87
#: DO 85: cryptogram of BER-TLV data, no indicator byte (odd INS).
TAG_CRYPTOGRAM = 0x85
#: DO 97: the plain command's Le.
TAG_LE = 0x97
#: DO 99: the plain response's status word.
TAG_STATUS = 0x99
#: DO 8E: cryptographic checksum (MAC).
TAG_MAC = 0x8E

PADDING_INDICATOR = 0x01
_PI = bytes((PADDING_INDICATOR,))

#: First interindustry / proprietary: b4b3 = 11 (header authenticated), 10 (not).
CLA_SM_MASK = 0x0C
CLA_SM_HEADER_AUTHENTICATED = 0x0C
CLA_SM_HEADER_NOT_AUTHENTICATED = 0x08
#: Further interindustry (40..7F): b6 = 1 means SM, header not authenticated.
CLA_SM_FURTHER = 0x20


def _is_further(cla: int) -> bool:
    return (cla & CLA_FURTHER_MASK) == CLA_FURTHER_INTERINDUSTRY


def protected_cla(cla: int) -> int:
    """The class byte of the protected command (SM bits set, header authenticated)."""
    if _is_further(cla):
        return cla | CLA_SM_FURTHER
    return (cla & ~CLA_SM_MASK) | CLA_SM_HEADER_AUTHENTICATED


def _sm_indication(cla: int) -> tuple[bool, bool]:
    """(SM indicated, header authenticated) for a class byte."""
    if _is_further(cla):
        return bool(cla & CLA_SM_FURTHER), False
    bits = cla & CLA_SM_MASK
    if bits == CLA_SM_HEADER_AUTHENTICATED:
        return True, True
    return bits == CLA_SM_HEADER_NOT_AUTHENTICATED, False


def authenticates_header(plain_cla: int) -> bool:
    """True if protecting a command with this class byte authenticates its header."""
    return _sm_indication(protected_cla(plain_cla))[1]


def is_protected(command: CommandApdu) -> bool:
    """True if the class byte announces ISO secure messaging."""
    return _sm_indication(command.cla)[0]


def _plain_cla(cla: int) -> int:
    if _is_further(cla):
        return cla & ~CLA_SM_FURTHER
    return cla & ~CLA_SM_MASK


def _do(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes((tag, n)) + value
    if n < 0x100:
        return bytes((tag, 0x81, n)) + value
    return bytes((tag, 0x82, n >> 8, n & 0xFF)) + value


def _parse_dos(data: bytes, allowed: tuple[int, ...]) -> tuple[dict[int, bytes], int]:
    """Split SM data objects; return {tag: value} and where DO 8E starts.

    Strict: only *allowed* tags, in that order, each at most once, minimal
    definite lengths, nothing after DO 8E. A missing 8E is 6987; anything
    else malformed is 6988.
    """
    found: dict[int, bytes] = {}
    mac_at = -1
    i, n = 0, len(data)
    order = -1
    while i < n:
        if mac_at >= 0:
            raise incorrect("data follows the MAC data object 8E")
        tag = data[i]
        if tag not in allowed:
            raise incorrect(f"unexpected data object {tag:02X} in a protected APDU")
        position = allowed.index(tag)
        if position <= order:
            raise incorrect(f"data object {tag:02X} repeated or out of order")
        order = position
        if i + 1 >= n:
            raise incorrect(f"data object {tag:02X} has no length")
        length = data[i + 1]
        start = i + 2
        if length == 0x81:
            if start >= n or data[start] < 0x80:
                raise incorrect(f"data object {tag:02X}: bad or non-minimal length")
            length = data[start]
            start += 1
        elif length == 0x82:
            if start + 1 >= n or data[start] == 0:
                raise incorrect(f"data object {tag:02X}: bad or non-minimal length")
            length = (data[start] << 8) | data[start + 1]
            start += 2
        elif length > 0x7F:
            raise incorrect(f"data object {tag:02X}: unsupported length byte {length:02X}")
        end = start + length
        if end > n:
            raise incorrect(f"data object {tag:02X} is truncated")
        if tag == TAG_MAC:
            mac_at = i
        found[tag] = data[start:end]
        i = end
    if mac_at < 0:
        raise missing("the MAC data object 8E is missing")
    return found, mac_at


def _check_mac(suite: CipherSuite, message: bytes, tag: bytes) -> None:
    if len(tag) != suite.mac_length:
        raise incorrect(f"DO 8E is {len(tag)} bytes; the suite's MAC is {suite.mac_length}")
    if not tags_equal(suite.mac(pad(message, suite.block_size)), tag):
        raise incorrect("MAC verification failed (tampered, replayed or reordered APDU)")


def _encode_le(le: int, extended: bool) -> bytes:
    if extended:
        return (le & 0xFFFF).to_bytes(2, "big")
    return bytes((le & 0xFF,))


def _decode_le(value: bytes) -> int:
    if len(value) == 1:
        return value[0] or SHORT_MAX_NE
    if len(value) == 2:
        return int.from_bytes(value, "big") or EXTENDED_MAX_NE
    raise incorrect(f"DO 97 holds {len(value)} bytes; Le is 1 or 2 bytes")


def _encrypted_do(suite: CipherSuite, ssc: bytes, ins: int, data: bytes) -> bytes:
    cryptogram = suite.encrypt(ssc, pad(data, suite.block_size))
    if ins & 1:
        return _do(TAG_CRYPTOGRAM, cryptogram)
    return _do(TAG_CRYPTOGRAM_PI, _PI + cryptogram)


def _decrypt_do(suite: CipherSuite, ssc: bytes, found: dict[int, bytes]) -> bytes:
    if TAG_CRYPTOGRAM_PI in found:
        value = found[TAG_CRYPTOGRAM_PI]
        if not value or value[0] != PADDING_INDICATOR:
            raise incorrect("DO 87 must start with padding-content indicator 01")
        cryptogram = value[1:]
    elif TAG_CRYPTOGRAM in found:
        cryptogram = found[TAG_CRYPTOGRAM]
    else:
        return b""
    if not cryptogram or len(cryptogram) % suite.block_size:
        raise incorrect(f"cryptogram of {len(cryptogram)} bytes is not whole cipher blocks")
    return unpad(suite.decrypt(ssc, cryptogram), suite.block_size)


# -- terminal side: protect a command, verify a response -------------------------------


def wrap_command(suite: CipherSuite, ssc: bytes, command: CommandApdu, *,
                 require_header_auth: bool = True) -> CommandApdu:
    """Protect a plain *command* with the (already incremented) counter *ssc*."""
    if is_protected(command):
        raise ValueError(f"command already announces secure messaging (CLA {command.cla:02X})")
    cla = protected_cla(command.cla)
    header_auth = _sm_indication(cla)[1]
    if require_header_auth and not header_auth:
        raise ValueError(f"CLA {command.cla:02X} cannot authenticate the command header; "
                         "use a first-interindustry or proprietary class byte")
    dos = b""
    if command.data:
        dos = _encrypted_do(suite, ssc, command.ins, command.data)
    le = command.le
    if le is not None:
        dos += _do(TAG_LE, _encode_le(le, le > SHORT_MAX_NE or command.extended))
    block = suite.block_size
    message = ssc + pad(bytes((cla, command.ins, command.p1, command.p2)), block) + dos \
        if header_auth else ssc + dos
    tag = suite.mac(pad(message, block))
    data = dos + _do(TAG_MAC, tag)
    extended = len(data) > SHORT_MAX_NC or (le is not None and le > SHORT_MAX_NE) \
        or command.extended
    return CommandApdu(cla, command.ins, command.p1, command.p2, data,
                       EXTENDED_MAX_NE if extended else SHORT_MAX_NE, extended)


_RESPONSE_TAGS = (TAG_CRYPTOGRAM_PI, TAG_CRYPTOGRAM, TAG_STATUS, TAG_MAC)
_COMMAND_TAGS = (TAG_CRYPTOGRAM_PI, TAG_CRYPTOGRAM, TAG_LE, TAG_MAC)


def unwrap_response(suite: CipherSuite, ssc: bytes, response: ResponseApdu) -> ResponseApdu:
    """Verify and decrypt a protected *response* (counter *ssc* already incremented)."""
    if not response.data:
        if response.sw in (SW.SM_DATA_OBJECTS_MISSING, SW.SM_DATA_OBJECTS_INCORRECT):
            raise SmError(f"the card rejected the protected command ({response.sw:04X}); "
                          "its session has ended", response.sw)
        raise missing(f"unprotected response {response.sw:04X} inside a secure session")
    found, mac_at = _parse_dos(response.data, _RESPONSE_TAGS)
    if TAG_CRYPTOGRAM_PI in found and TAG_CRYPTOGRAM in found:
        raise incorrect("response carries both DO 85 and DO 87")
    _check_mac(suite, ssc + response.data[:mac_at], found[TAG_MAC])
    status = found.get(TAG_STATUS)
    if status is None:
        raise missing("the protected status DO 99 is missing")
    if len(status) != 2:
        raise incorrect(f"DO 99 holds {len(status)} bytes; a status word is 2")
    sw = int.from_bytes(status, "big")
    if sw != response.sw:
        raise incorrect(f"plain trailer {response.sw:04X} differs from the protected status")
    return ResponseApdu(_decrypt_do(suite, ssc, found), sw)


# -- card side: verify a command, protect a response ---------------------------------------


def unwrap_command(suite: CipherSuite, ssc: bytes, command: CommandApdu, *,
                   require_header_auth: bool = True) -> CommandApdu:
    """Verify and decrypt a protected *command* (counter *ssc* already incremented)."""
    indicated, header_auth = _sm_indication(command.cla)
    if not indicated:
        raise missing(f"CLA {command.cla:02X} does not announce secure messaging")
    if require_header_auth and not header_auth:
        raise SmError(f"CLA {command.cla:02X}: SM without header authentication is refused",
                      SW.SECURE_MESSAGING_NOT_SUPPORTED)
    if not command.data:
        raise missing("protected command without SM data objects")
    found, mac_at = _parse_dos(command.data, _COMMAND_TAGS)
    if TAG_CRYPTOGRAM_PI in found and TAG_CRYPTOGRAM in found:
        raise incorrect("command carries both DO 85 and DO 87")
    dos = command.data[:mac_at]
    if header_auth:
        header = bytes((command.cla, command.ins, command.p1, command.p2))
        message = ssc + pad(header, suite.block_size) + dos
    else:
        message = ssc + dos
    _check_mac(suite, message, found[TAG_MAC])
    data = _decrypt_do(suite, ssc, found)
    le_value = found.get(TAG_LE)
    le = None if le_value is None else _decode_le(le_value)
    # a two-byte DO 97 is an extended Le (0000 = 65536, 0100 = 256 but not "all zeros")
    extended = True if le_value is not None and len(le_value) == 2 else None
    return CommandApdu(_plain_cla(command.cla), command.ins, command.p1, command.p2, data, le,
                       extended)


def wrap_response(suite: CipherSuite, ssc: bytes, command: CommandApdu,
                  response: ResponseApdu) -> ResponseApdu:
    """Protect a plain *response* to the plain *command* (counter *ssc* already incremented)."""
    dos = _encrypted_do(suite, ssc, command.ins, response.data) if response.data else b""
    dos += _do(TAG_STATUS, response.sw.to_bytes(2, "big"))
    tag = suite.mac(pad(ssc + dos, suite.block_size))
    return ResponseApdu(dos + _do(TAG_MAC, tag), response.sw)

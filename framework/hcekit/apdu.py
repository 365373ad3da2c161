"""ISO/IEC 7816-4 command and response APDUs: strict parsing, exact encoding.

Cases 1–4, short and extended length (ISO/IEC 7816-4:2020 §5.2). ``le`` holds
Ne, the decoded number of expected bytes (a short Le of ``00`` is 256, an
extended ``0000`` is 65536); ``None`` means the Le field is absent.

Parsing is strict: a byte string whose length disagrees with its Lc, or that
has bytes after Le, raises :class:`~hcekit.errors.ApduFormatError` with a
message saying exactly what is wrong; the card answers 6700 for it.
"""

from __future__ import annotations

from .errors import ApduFormatError
from .sw import SW, describe, sw_bytes

__all__ = ["CommandApdu", "ResponseApdu", "SHORT_MAX_NC", "SHORT_MAX_NE", "EXTENDED_MAX_NE"]

#: The most data (Nc) and the longest answer (Ne) short and extended APDUs can carry.
SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NC = 65535
EXTENDED_MAX_NE = 65536

#: Class byte (ISO/IEC 7816-4 §5.4.1): b8 set = proprietary; FF is reserved (PPS).
CLA_PROPRIETARY = 0x80
CLA_INVALID = 0xFF
#: Interindustry classes: b5 = command chaining; 01xx xxxx = further interindustry.
CLA_CHAINING = 0x10
CLA_FURTHER_INTERINDUSTRY = 0x40
CLA_FURTHER_MASK = 0xC0

#: The interindustry instructions the card core itself answers.
INS_SELECT = 0xA4
INS_GET_RESPONSE = 0xC0
#: Mutual authentication (ISO/IEC 7816-4 §11.5; :mod:`hcekit.sm.auth` answers them for a plugin).
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
P1_SELECT_BY_DF_NAME = 0x04


class _Keep:
    """Marker: keep the field as it is (``None`` is a meaningful Le)."""


_KEEP = _Keep()


class CommandApdu:
    """One command APDU. Immutable by convention; ``__slots__`` for the hot path."""

    __slots__ = ("cla", "data", "extended", "ins", "le", "p1", "p2")

    def __init__(
        self,
        cla: int,
        ins: int,
        p1: int = 0,
        p2: int = 0,
        data: bytes = b"",
        le: int | None = None,
        extended: bool | None = None,
    ) -> None:
        for name, value in (("cla", cla), ("ins", ins), ("p1", p1), ("p2", p2)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be one byte, got {value!r}")
        if len(data) > EXTENDED_MAX_NC:
            raise ValueError(f"command data is {len(data)} bytes; at most {EXTENDED_MAX_NC}")
        if le is not None and not 1 <= le <= EXTENDED_MAX_NE:
            raise ValueError(f"Ne must be 1..{EXTENDED_MAX_NE} or None, got {le!r}")
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = bytes(data)
        self.le = le
        if extended is None:
            extended = len(data) > SHORT_MAX_NC or (le is not None and le > SHORT_MAX_NE)
        self.extended = extended

    # -- wire format -----------------------------------------------------------

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode *raw* strictly; raise :class:`ApduFormatError` naming the defect."""
        n = len(raw)
        if n < 4:
            raise ApduFormatError(f"a command APDU has at least 4 header bytes, got {n}")
        self = cls.__new__(cls)
        self.cla = raw[0]
        self.ins = raw[1]
        self.p1 = raw[2]
        self.p2 = raw[3]
        self.extended = False
        if n == 4:  # case 1
            self.data = b""
            self.le = None
            return self
        b4 = raw[4]
        if n == 5:  # case 2S
            self.data = b""
            self.le = b4 or SHORT_MAX_NE
            return self
        if b4:  # short Lc: case 3S or 4S
            end = 5 + b4
            if n == end:
                self.data = raw[5:end]
                self.le = None
            elif n == end + 1:
                self.data = raw[5:end]
                self.le = raw[end] or SHORT_MAX_NE
            elif n < end:
                raise ApduFormatError(f"Lc={b4} but only {n - 5} data bytes follow")
            else:
                raise ApduFormatError(
                    f"Lc={b4} and {n - 5} bytes follow the header: "
                    f"{n - end - 1} trailing byte(s) after Le"
                )
            return self
        # b4 == 0 and n >= 6: extended length
        self.extended = True
        if n == 6:
            raise ApduFormatError("6 bytes with a zero 5th byte is neither short nor extended")
        if n == 7:  # case 2E
            self.data = b""
            self.le = int.from_bytes(raw[5:7], "big") or EXTENDED_MAX_NE
            return self
        lc = (raw[5] << 8) | raw[6]
        if lc == 0:
            raise ApduFormatError("extended Lc of 0000 is not allowed with a data field")
        end = 7 + lc
        if n == end:  # case 3E
            self.data = raw[7:end]
            self.le = None
        elif n == end + 2:  # case 4E
            self.data = raw[7:end]
            self.le = int.from_bytes(raw[end:], "big") or EXTENDED_MAX_NE
        elif n < end:
            raise ApduFormatError(f"extended Lc={lc} but only {n - 7} data bytes follow")
        else:
            raise ApduFormatError(
                f"extended Lc={lc} and {n - 7} bytes follow: "
                f"expected {lc} or {lc + 2} (data + 2-byte Le)"
            )
        return self

    def to_bytes(self) -> bytes:
        """Encode; short form unless ``extended`` (or the sizes require extended)."""
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        nc = len(self.data)
        le = self.le
        if not self.extended:
            out = header
            if nc:
                out += bytes((nc,)) + self.data
            if le is not None:
                out += bytes((le & 0xFF,))
            return out
        out = header
        if nc:
            out += b"\x00" + nc.to_bytes(2, "big") + self.data
            if le is not None:
                out += (le & 0xFFFF).to_bytes(2, "big")
        elif le is not None:
            out += b"\x00" + (le & 0xFFFF).to_bytes(2, "big")
        return out

    # -- convenience ----------------------------------------------------------

    @classmethod
    def from_hex(cls, text: str) -> CommandApdu:
        """Parse hex text (spaces and colons ignored): for CLIs and tests."""
        return cls.parse(bytes.fromhex(text.replace(":", " ")))

    @property
    def case(self) -> int:
        """ISO case number 1–4."""
        if self.data:
            return 4 if self.le is not None else 3
        return 2 if self.le is not None else 1

    @property
    def is_interindustry(self) -> bool:
        """True for an interindustry class byte (b8 = 0): ISO coding of chaining, SM, channels."""
        return not self.cla & CLA_PROPRIETARY

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def replace(
        self,
        *,
        cla: int | None = None,
        ins: int | None = None,
        p1: int | None = None,
        p2: int | None = None,
        data: bytes | None = None,
        le: int | _Keep | None = _KEEP,
    ) -> CommandApdu:
        """A copy with some fields changed (``extended`` recomputed); ``le=None`` drops Le."""
        return CommandApdu(
            self.cla if cla is None else cla,
            self.ins if ins is None else ins,
            self.p1 if p1 is None else p1,
            self.p2 if p2 is None else p2,
            self.data if data is None else data,
            self.le if isinstance(le, _Keep) else le,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandApdu):
            return NotImplemented
        return (
            self.cla, self.ins, self.p1, self.p2, self.data, self.le
        ) == (other.cla, other.ins, other.p1, other.p2, other.data, other.le)

    def __hash__(self) -> int:
        return hash((self.cla, self.ins, self.p1, self.p2, self.data, self.le))

    def __repr__(self) -> str:
        le = "" if self.le is None else f", le={self.le}"
        data = f", data={self.data.hex().upper()}" if self.data else ""
        return (
            f"CommandApdu(cla={self.cla:02X}, ins={self.ins:02X}, "
            f"p1={self.p1:02X}, p2={self.p2:02X}{data}{le})"
        )


class ResponseApdu:
    """A response APDU: response data and a status word."""

    __slots__ = ("data", "sw")

    def __init__(self, data: bytes = b"", sw: int = SW.NO_ERROR) -> None:
        if not 0 <= sw <= 0xFFFF:
            raise ValueError(f"status word out of range: {sw!r}")
        self.data = bytes(data)
        self.sw = int(sw)

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ApduFormatError(f"a response APDU has at least 2 status bytes, got {len(raw)}")
        return cls(raw[:-2], (raw[-2] << 8) | raw[-1])

    def to_bytes(self) -> bytes:
        return self.data + sw_bytes(self.sw)

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        """True for 9000."""
        return self.sw == SW.NO_ERROR

    def check(self) -> ResponseApdu:
        """Return self if 9000, else raise :class:`IsoError` (terminal-side convenience)."""
        if self.sw != SW.NO_ERROR:
            from .errors import HcekitError, IsoError
            from .sw import is_error_sw

            if not is_error_sw(self.sw):  # 61xx/6Cxx left over, or no status word at all
                raise HcekitError(f"card answered {self.sw:04X}, which is not an error "
                                  "status word IsoError can carry")
            raise IsoError(self.sw, f"card answered {self.sw:04X} {describe(self.sw)}")
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseApdu):
            return NotImplemented
        return self.data == other.data and self.sw == other.sw

    def __hash__(self) -> int:
        return hash((self.data, self.sw))

    def __repr__(self) -> str:
        return f"ResponseApdu(data={self.data.hex().upper()}, sw={self.sw:04X} {describe(self.sw)})"

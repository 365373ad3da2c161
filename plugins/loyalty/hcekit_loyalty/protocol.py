"""Smart Tap 2.1 wire format: AIDs, commands, records and message (de)serialisation.

Both sides use this module: the card parses requests and builds responses,
the till builds requests and parses responses. Sources, in order of
authority: Google's Smart Tap reference (developers.google.com/wallet/
smart-tap/terminal/reference: apdu-commands/*, ndef-records/*), Google's
sample terminal (github.com/google-pay/smart-tap-sample-app), and the
reverse-engineering notes of github.com/kormax/google-smart-tap (byte
examples used as test vectors). Details none of them fixes come from
:mod:`hcekit_loyalty.assumptions`.

Every ``parse_*`` function raises :class:`SmartTapFormatError` (status word
"format invalid") on malformed input, naming the defect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

from hcekit import tlv
from hcekit.errors import IsoError
from hcekit.ndef import NdefError, NdefRecord, Tnf, decode_message, encode_message

from . import assumptions as A
from .aids import AID_OSE, AID_SMART_TAP_2, WALLET_LABEL
from .status import SmartTapSW

__all__ = [
    "AID_OSE", "AID_SMART_TAP_2", "CLA_SMART_TAP", "INS_NEGOTIATE", "INS_GET_DATA",
    "INS_GET_MORE_DATA", "INS_PUSH_DATA", "VERSION", "WALLET_LABEL",
    "PayloadFormat", "SessionStatus", "ServiceType", "SystemCapability", "UpdateOperation",
    "UsageStatus", "SmartTapFormatError", "Session", "OseInfo",
    "NegotiateRequest", "NegotiateResponse", "ServiceRequest", "ServiceResponse",
    "LoyaltyObject", "OfferObject", "CustomerObject", "ServiceObjects",
    "PushRequest", "PushResponse", "LedgerResult", "collector_id_bytes",
    "encode_ose_fci", "parse_ose_fci", "encode_select_response", "parse_select_response",
    "smart_tap_name", "find_record",
]

CLA_SMART_TAP = 0x90
INS_NEGOTIATE = 0x53
INS_GET_DATA = 0x50
INS_GET_MORE_DATA = 0xC0
INS_PUSH_DATA = 0x52
#: The Smart Tap 2 minor version every certified command uses (2.1).
VERSION = 0x0001

# OSE FCI tags (kormax notes, real-device capture)
TAG_FCI = 0x6F
TAG_LABEL = 0x50
TAG_OSE_VERSION = 0xC0
TAG_DEVICE_NONCE = 0xC2
TAG_DEVICE_KEY = 0xC3
TAG_FCI_PROPRIETARY = 0xA5
TAG_FCI_DISCRETIONARY = 0xBF0C
TAG_DIRECTORY_ENTRY = 0x61
TAG_AID = 0x4F
TAG_PRIORITY = 0x87
TAG_APP_DATA = 0x73
TAG_MIN_VERSION = 0xDF6D
TAG_MAX_VERSION = 0xDF4D

# Record names
R_NEGOTIATE_REQUEST = b"ngr"
R_NEGOTIATE_RESPONSE = b"nrs"
R_SESSION = b"ses"
R_CRYPTO_PARAMS = b"cpr"
R_SIGNATURE = b"sig"
R_COLLECTOR_ID = b"cld"
R_HANDSET_NONCE = b"mdn"
R_HANDSET_KEY = b"dpk"
R_SERVICE_REQUEST = b"srq"
R_SERVICE_RESPONSE = b"srs"
R_MERCHANT = b"mer"
R_SERVICE_LIST = b"slr"
R_SERVICE_TYPE = b"str"
R_POS_CAPABILITIES = b"pcr"
R_RECORD_BUNDLE = b"reb"
R_SERVICE_VALUE = b"asv"
R_OBJECT_ID = b"oid"
R_SERVICE_NUMBER = b"n"
R_LOYALTY = b"ly"
R_OFFER = b"of"
R_CUSTOMER = b"cus"
R_CUSTOMER_ID = b"cid"
R_PUSH_REQUEST = b"spr"
R_PUSH_RESPONSE = b"psr"
R_SERVICE_STATUS = b"ssr"
R_SERVICE_USAGE = b"sug"
R_SERVICE_UPDATE = b"sup"
R_TRANSACTION_COUNTER = b"tcr"

NONCE_LENGTH = 32
SESSION_ID_LENGTH = 8
COMPRESSED_KEY_LENGTH = 33
COLLECTOR_ID_LENGTH = 4
KEY_VERSION_LENGTH = 4
AUTH_LIVE = 0x01


class PayloadFormat(IntEnum):
    """First payload byte of some records (kormax notes)."""

    UNSPECIFIED = 0x00
    ASCII = 0x01
    UTF_8 = 0x02
    UTF_16 = 0x03
    BINARY = 0x04
    BCD = 0x05


class SessionStatus(IntEnum):
    """Last byte of the ``ses`` record (kormax notes)."""

    UNKNOWN = 0x00
    OK = 0x01
    NDEF_FORMAT_INVALID = 0x02
    UNSUPPORTED_VERSION = 0x03
    INVALID_SEQUENCE_NUMBER = 0x04
    UNKNOWN_MERCHANT = 0x05
    MERCHANT_INFO_MISSING = 0x06
    SERVICE_DATA_MISSING = 0x07
    RESEND_REQUEST = 0x08
    DATA_NOT_AVAILABLE_YET = 0x09


class ServiceType(IntEnum):
    """Service types a terminal requests in ``str`` records (kormax notes)."""

    ALL = 0x00
    ALL_EXCEPT_PPSE = 0x01
    PPSE = 0x02
    LOYALTY = 0x03
    OFFER = 0x04
    GIFT_CARD = 0x05
    PRIVATE_LABEL_CARD = 0x06
    EVENT_TICKET = 0x07
    FLIGHT = 0x08
    TRANSIT = 0x09
    CLOUD_BASED_WALLET = 0x10
    MOBILE_MARKETING_PLATFORM = 0x11
    GENERIC = 0x12
    WALLET_CUSTOMER = 0x40


class SystemCapability(IntFlag):
    """First byte of the ``pcr`` POS-capabilities record (kormax notes)."""

    STANDALONE = 0x01
    SEMI_INTEGRATED = 0x02
    UNATTENDED = 0x04
    ONLINE = 0x08
    OFFLINE = 0x10
    MMP = 0x20
    ZLIB_SUPPORTED = 0x40


class UpdateOperation(IntEnum):
    """First byte of ``sup`` (service update, kormax notes)."""

    NO_OP = 0x00
    REMOVE = 0x01
    SET_BALANCE = 0x02
    ADD_BALANCE = 0x03
    SUBTRACT_BALANCE = 0x04
    FREE = 0x05


class UsageStatus(IntEnum):
    """Service-usage status (kormax notes); we report ledger outcomes with it."""

    UNDEFINED = 0x00
    SUCCESS = 0x01
    INVALID_FORMAT = 0x02
    INVALID_VALUE = 0x03
    UNKNOWN = 0xFF


class SmartTapFormatError(IsoError, ValueError):
    """A Smart Tap message that does not parse (answers "format invalid")."""

    def __init__(self, message: str) -> None:
        super().__init__(SmartTapSW.FORMAT_INVALID, message)


# -- small helpers -------------------------------------------------------------------


def _decode(data: bytes, what: str) -> list[NdefRecord]:
    try:
        return decode_message(data)
    except NdefError as exc:
        raise SmartTapFormatError(f"{what}: {exc}") from None


def _need(records: Sequence[NdefRecord], name: bytes, within: str) -> NdefRecord:
    record = find_record(records, name)
    if record is None:
        raise SmartTapFormatError(f"{within}: mandatory {name.decode()!r} record missing")
    return record


def _exact(value: bytes, length: int, what: str) -> bytes:
    if len(value) != length:
        raise SmartTapFormatError(f"{what} is {len(value)} bytes, expected {length}")
    return value


def _uint(value: bytes, length: int, what: str) -> int:
    return int.from_bytes(_exact(value, length, what), "big")


def _version(payload: bytes, what: str) -> tuple[int, bytes]:
    if len(payload) < 2:
        raise SmartTapFormatError(f"{what}: version missing")
    return int.from_bytes(payload[:2], "big"), payload[2:]


def _rec(name: bytes, payload: bytes, *, with_id: bool = False) -> NdefRecord:
    """A Smart Tap record: TNF external, type = the short name (and the ID too if asked)."""
    return NdefRecord.external(name, payload, name if with_id else b"")


def smart_tap_name(record: NdefRecord) -> bytes:
    """Smart Tap's name for a record: the ID of a well-known record that has one, else the type."""
    if record.tnf is Tnf.WELL_KNOWN and record.id:
        return record.id
    return record.type


def find_record(records: Sequence[NdefRecord], name: bytes) -> NdefRecord | None:
    """The first record Smart Tap would call *name* (by its name or its type), or None."""
    for record in records:
        if smart_tap_name(record) == name or record.type == name:
            return record
    return None


def _formatted(fmt: PayloadFormat, value: bytes) -> bytes:
    return bytes((fmt,)) + value


def _unformatted(payload: bytes, what: str) -> bytes:
    if not payload:
        raise SmartTapFormatError(f"{what}: empty payload (format byte missing)")
    return payload[1:]


def _service_number(record: NdefRecord) -> bytes:
    """``n`` is PRIMITIVE (format byte + value) or RTD_TEXT (status byte, language, text)."""
    payload = record.payload
    if record.tnf is Tnf.WELL_KNOWN and record.type == b"T":
        if not payload or 1 + (payload[0] & 0x3F) > len(payload):
            raise SmartTapFormatError("n: malformed RTD_TEXT payload")
        return payload[1 + (payload[0] & 0x3F):]
    return _unformatted(payload, "n")


def collector_id_bytes(collector_id: int) -> bytes:
    """The 4 bytes of a collector ID (public rule: last 4 bytes, left-padded with zeros)."""
    if collector_id < 0:
        raise ValueError("collector ID must not be negative")
    raw = collector_id.to_bytes(max(COLLECTOR_ID_LENGTH, (collector_id.bit_length() + 7) // 8),
                                "big")
    return raw[-COLLECTOR_ID_LENGTH:]


def _collector_record(collector_id: int) -> NdefRecord:
    return _rec(R_COLLECTOR_ID, _formatted(PayloadFormat.BINARY, collector_id_bytes(collector_id)))


def _parse_collector(record: NdefRecord) -> int:
    value = _unformatted(record.payload, "cld")
    if not 1 <= len(value) <= 8:
        raise SmartTapFormatError(f"cld: {len(value)}-byte collector ID")
    return int.from_bytes(value, "big")


# -- session ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """``ses``: 8-byte session ID, sequence number, status."""

    id: bytes
    sequence: int
    status: int = SessionStatus.OK

    def record(self) -> NdefRecord:
        return _rec(R_SESSION, self.id + bytes((self.sequence & 0xFF, self.status)))

    @classmethod
    def parse(cls, record: NdefRecord) -> Session:
        payload = _exact(record.payload, SESSION_ID_LENGTH + 2, "ses payload")
        return cls(payload[:SESSION_ID_LENGTH], payload[8], payload[9])

    def next(self, status: int = SessionStatus.OK) -> Session:
        """The session record that answers this one (sequence + 1)."""
        return Session(self.id, (self.sequence + 1) & 0xFF, status)


# -- SELECT OSE.VAS.01 and SELECT SMART TAP 2 ----------------------------------------------


@dataclass(frozen=True)
class OseInfo:
    label: bytes
    device_nonce: bytes | None
    device_key: bytes | None
    smart_tap_aid: bytes | None
    min_version: int | None
    max_version: int | None


def encode_ose_fci(nonce: bytes, device_key: bytes, label: bytes = WALLET_LABEL) -> bytes:
    """FCI of OSE.VAS.01: label, version, device nonce and key, Smart Tap directory entry."""
    app_data = tlv.encode(TAG_APP_DATA, [
        tlv.encode(TAG_MIN_VERSION, VERSION.to_bytes(2, "big")),
        tlv.encode(TAG_MAX_VERSION, VERSION.to_bytes(2, "big")),
    ])
    entry = tlv.encode(TAG_DIRECTORY_ENTRY, [
        tlv.encode(TAG_AID, AID_SMART_TAP_2),
        tlv.encode(TAG_PRIORITY, b"\x01"),
        app_data,
    ])
    return tlv.encode(TAG_FCI, [
        tlv.encode(TAG_LABEL, label),
        tlv.encode(TAG_OSE_VERSION, VERSION.to_bytes(2, "big")),
        tlv.encode(TAG_DEVICE_NONCE, nonce),
        tlv.encode(TAG_DEVICE_KEY, device_key),
        tlv.encode(TAG_FCI_PROPRIETARY, [tlv.encode(TAG_FCI_DISCRETIONARY, [entry])]),
    ])


def parse_ose_fci(data: bytes) -> OseInfo:
    """Read what a terminal needs from an OSE FCI; optional tags may be absent."""
    try:
        (fci,) = tlv.parse(data, strict=False)
    except ValueError:
        raise SmartTapFormatError("OSE answer is not one TLV object") from None
    if fci.tag != TAG_FCI:
        raise SmartTapFormatError(f"OSE answer has tag {fci.tag:X}, expected 6F")
    label = tlv.find(fci.value, TAG_LABEL)
    if label is None:
        raise SmartTapFormatError("OSE FCI without application label (50)")
    entry = tlv.find(fci.value, TAG_DIRECTORY_ENTRY)
    aid = mn = mx = None
    if entry is not None:
        aid = tlv.find(entry, TAG_AID)
        app = tlv.find(entry, TAG_APP_DATA)
        if app is not None:
            raw_min, raw_max = tlv.find(app, TAG_MIN_VERSION), tlv.find(app, TAG_MAX_VERSION)
            mn = int.from_bytes(raw_min, "big") if raw_min else None
            mx = int.from_bytes(raw_max, "big") if raw_max else None
    return OseInfo(label, tlv.find(fci.value, TAG_DEVICE_NONCE),
                   tlv.find(fci.value, TAG_DEVICE_KEY), aid, mn, mx)


def encode_select_response(nonce: bytes, min_version: int = VERSION,
                           max_version: int = VERSION) -> bytes:
    """SELECT SMART TAP 2 answer: min and max version, then an ``mdn`` nonce record.

    The ``mdn`` record carries its name as type and as ID, as captured devices do.
    """
    mdn = _rec(R_HANDSET_NONCE, _formatted(PayloadFormat.BINARY, nonce), with_id=True)
    return (min_version.to_bytes(2, "big") + max_version.to_bytes(2, "big")
            + encode_message([mdn]))


def parse_select_response(data: bytes) -> tuple[int, int, bytes]:
    """``(min_version, max_version, device_nonce)`` of a SELECT SMART TAP 2 answer."""
    if len(data) < 4:
        raise SmartTapFormatError("SELECT SMART TAP 2 answer shorter than its versions")
    records = _decode(data[4:], "select response")
    nonce = _unformatted(_need(records, R_HANDSET_NONCE, "select response").payload, "mdn")
    return (int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big"),
            _exact(nonce, NONCE_LENGTH, "device nonce"))


# -- NEGOTIATE SECURE SMART TAP SESSIONS (90 53) -----------------------------------------------


@dataclass(frozen=True)
class NegotiateRequest:
    session: Session
    terminal_nonce: bytes
    live_auth: bool
    terminal_key: bytes
    key_version: int
    signature: bytes
    collector_id: int
    version: int = VERSION

    def encode(self) -> bytes:
        sig = _rec(R_SIGNATURE, _formatted(PayloadFormat.BINARY, self.signature))
        cpr = _rec(R_CRYPTO_PARAMS, b"".join((
            self.terminal_nonce,
            bytes((AUTH_LIVE if self.live_auth else 0,)),
            self.terminal_key,
            self.key_version.to_bytes(KEY_VERSION_LENGTH, "big"),
            encode_message([sig, _collector_record(self.collector_id)]),
        )))
        inner = encode_message([self.session.record(), cpr])
        return encode_message([_rec(R_NEGOTIATE_REQUEST, self.version.to_bytes(2, "big") + inner)])

    @classmethod
    def parse(cls, data: bytes) -> NegotiateRequest:
        ngr = _need(_decode(data, "negotiate request"), R_NEGOTIATE_REQUEST, "negotiate request")
        version, rest = _version(ngr.payload, "ngr")
        inner = _decode(rest, "ngr payload")
        session = Session.parse(_need(inner, R_SESSION, "ngr"))
        cpr = _need(inner, R_CRYPTO_PARAMS, "ngr").payload
        fixed = NONCE_LENGTH + 1 + COMPRESSED_KEY_LENGTH + KEY_VERSION_LENGTH
        if len(cpr) <= fixed:
            raise SmartTapFormatError(f"cpr payload is {len(cpr)} bytes, needs more than {fixed}")
        nonce = cpr[:NONCE_LENGTH]
        auth = cpr[NONCE_LENGTH]
        key = cpr[NONCE_LENGTH + 1:NONCE_LENGTH + 1 + COMPRESSED_KEY_LENGTH]
        key_version = int.from_bytes(cpr[fixed - KEY_VERSION_LENGTH:fixed], "big")
        nested = _decode(cpr[fixed:], "cpr records")
        signature = _unformatted(_need(nested, R_SIGNATURE, "cpr").payload, "sig")
        collector = _parse_collector(_need(nested, R_COLLECTOR_ID, "cpr"))
        return cls(session, nonce, bool(auth & AUTH_LIVE), key, key_version, signature,
                   collector, version)


@dataclass(frozen=True)
class NegotiateResponse:
    session: Session
    device_key: bytes

    def encode(self) -> bytes:
        inner = encode_message([self.session.record(), _rec(R_HANDSET_KEY, self.device_key)])
        return encode_message([_rec(R_NEGOTIATE_RESPONSE, inner)])

    @classmethod
    def parse(cls, data: bytes) -> NegotiateResponse:
        nrs = _need(_decode(data, "negotiate response"), R_NEGOTIATE_RESPONSE,
                    "negotiate response")
        inner = _decode(nrs.payload, "nrs payload")
        key = _exact(_need(inner, R_HANDSET_KEY, "nrs").payload, COMPRESSED_KEY_LENGTH, "dpk")
        return cls(Session.parse(_need(inner, R_SESSION, "nrs")), key)


# -- GET SMART TAP DATA (90 50) -------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRequest:
    session: Session
    collector_id: int
    service_types: tuple[int, ...] = (ServiceType.ALL,)
    capabilities: bytes | None = None
    version: int = VERSION

    @property
    def zlib_supported(self) -> bool:
        return bool(self.capabilities and self.capabilities[0] & SystemCapability.ZLIB_SUPPORTED)

    def encode(self) -> bytes:
        merchant = _rec(R_MERCHANT, encode_message([_collector_record(self.collector_id)]))
        services = _rec(R_SERVICE_LIST, encode_message(
            [_rec(R_SERVICE_TYPE, bytes((t,))) for t in self.service_types]))
        records = [self.session.record(), merchant, services]
        if self.capabilities is not None:
            records.append(_rec(R_POS_CAPABILITIES, self.capabilities))
        return encode_message([_rec(R_SERVICE_REQUEST,
                                    self.version.to_bytes(2, "big") + encode_message(records))])

    @classmethod
    def parse(cls, data: bytes) -> ServiceRequest:
        srq = _need(_decode(data, "service request"), R_SERVICE_REQUEST, "service request")
        version, rest = _version(srq.payload, "srq")
        inner = _decode(rest, "srq payload")
        session = Session.parse(_need(inner, R_SESSION, "srq"))
        merchant = _decode(_need(inner, R_MERCHANT, "srq").payload, "mer payload")
        collector = _parse_collector(_need(merchant, R_COLLECTOR_ID, "mer"))
        service_list = _decode(_need(inner, R_SERVICE_LIST, "srq").payload, "slr payload")
        types = tuple(b for r in service_list if smart_tap_name(r) == R_SERVICE_TYPE for b in r.payload)
        if not types:
            raise SmartTapFormatError("slr: no service type requested")
        pcr = find_record(inner, R_POS_CAPABILITIES)
        return cls(session, collector, types, pcr.payload if pcr else None, version)


@dataclass(frozen=True)
class ServiceResponse:
    session: Session
    bundle_flags: int
    bundle: bytes

    def encode(self) -> bytes:
        reb = _rec(R_RECORD_BUNDLE, bytes((self.bundle_flags,)) + self.bundle)
        return encode_message([_rec(R_SERVICE_RESPONSE,
                                    encode_message([self.session.record(), reb]))])

    @classmethod
    def parse(cls, data: bytes, outer: bytes = R_SERVICE_RESPONSE) -> ServiceResponse:
        top = _need(_decode(data, "service response"), outer, "service response")
        inner = _decode(top.payload, f"{outer.decode()} payload")
        session = Session.parse(_need(inner, R_SESSION, outer.decode()))
        reb = _need(inner, R_RECORD_BUNDLE, outer.decode()).payload
        if not reb:
            raise SmartTapFormatError("reb: empty record bundle")
        return cls(session, reb[0], reb[1:])


# -- service objects (the decrypted record bundle) ------------------------------------------------


@dataclass(frozen=True)
class LoyaltyObject:
    """``ly``: object ID and service number (the member ID) — public; balance and
    ledger counter — our extension (see assumptions)."""

    object_id: bytes
    member_id: bytes
    balance: int | None = None
    counter: int | None = None

    def record(self) -> NdefRecord:
        fields = [
            _rec(R_OBJECT_ID, _formatted(PayloadFormat.BINARY, self.object_id), with_id=True),
            _rec(R_SERVICE_NUMBER,
                                _formatted(PayloadFormat.UNSPECIFIED, self.member_id), with_id=True),
        ]
        if self.balance is not None:
            fields.append(_rec(A.RECORD_BALANCE, self.balance.to_bytes(A.POINTS_LENGTH, "big")))
        if self.counter is not None:
            fields.append(_rec(R_TRANSACTION_COUNTER,
                               self.counter.to_bytes(A.COUNTER_LENGTH, "big")))
        return _rec(R_LOYALTY, encode_message(fields))


@dataclass(frozen=True)
class OfferObject:
    """``of``: object ID and service number (the offer code) — public."""

    object_id: bytes
    code: bytes

    def record(self) -> NdefRecord:
        return _rec(R_OFFER, encode_message([
            _rec(R_OBJECT_ID, _formatted(PayloadFormat.BINARY, self.object_id), with_id=True),
            _rec(R_SERVICE_NUMBER,
                                _formatted(PayloadFormat.UNSPECIFIED, self.code), with_id=True),
        ]))


@dataclass(frozen=True)
class CustomerObject:
    """``cus``: the per-collector customer ID (``cid``) — public."""

    customer_id: bytes

    def record(self) -> NdefRecord:
        return _rec(R_CUSTOMER, encode_message([
            _rec(R_CUSTOMER_ID, _formatted(PayloadFormat.BINARY, self.customer_id))]))


@dataclass
class ServiceObjects:
    """What a GET DATA bundle holds, decrypted."""

    loyalty: list[LoyaltyObject] = field(default_factory=list)
    offers: list[OfferObject] = field(default_factory=list)
    customer: CustomerObject | None = None

    def encode(self) -> bytes:
        objects: list[NdefRecord] = []
        if self.customer is not None:
            objects.append(self.customer.record())
        objects += [o.record() for o in self.loyalty]
        objects += [o.record() for o in self.offers]
        if not objects:
            raise ValueError("no service objects to encode")
        return encode_message([_rec(R_SERVICE_VALUE, encode_message([o])) for o in objects])

    @classmethod
    def parse(cls, data: bytes) -> ServiceObjects:
        out = cls()
        for asv in _decode(data, "record bundle"):
            if smart_tap_name(asv) != R_SERVICE_VALUE:
                continue
            for obj in _decode(asv.payload, "asv payload"):
                fields = _decode(obj.payload, f"{smart_tap_name(obj).decode(errors='replace')} payload")
                if smart_tap_name(obj) == R_CUSTOMER:
                    cid = _unformatted(_need(fields, R_CUSTOMER_ID, "cus").payload, "cid")
                    out.customer = CustomerObject(cid)
                    continue
                if smart_tap_name(obj) not in (R_LOYALTY, R_OFFER):
                    continue  # other pass types: not ours to read
                oid = _unformatted(_need(fields, R_OBJECT_ID, "object").payload, "oid")
                number = _service_number(_need(fields, R_SERVICE_NUMBER, "object"))
                if smart_tap_name(obj) == R_OFFER:
                    out.offers.append(OfferObject(oid, number))
                    continue
                bal = find_record(fields, A.RECORD_BALANCE)
                tcr = find_record(fields, R_TRANSACTION_COUNTER)
                out.loyalty.append(LoyaltyObject(
                    oid, number,
                    _uint(bal.payload, A.POINTS_LENGTH, "bal") if bal else None,
                    _uint(tcr.payload, A.COUNTER_LENGTH, "tcr") if tcr else None,
                ))
        return out


# -- PUSH SMART TAP DATA (90 52): the points ledger ---------------------------------------------------


@dataclass(frozen=True)
class PushRequest:
    """``spr`` carrying one ledger update: ``ses``, ``ssr`` [oid, sup, tcr], then the
    till's ``sig`` and our ``mac`` (see assumptions)."""

    session: Session
    object_id: bytes
    operation: int
    points: int
    counter: int
    signature: bytes = b""
    mac: bytes = b""
    version: int = VERSION

    def _records(self) -> list[NdefRecord]:
        status = _rec(R_SERVICE_STATUS, encode_message([
            _rec(R_OBJECT_ID, _formatted(PayloadFormat.BINARY, self.object_id), with_id=True),
            _rec(R_SERVICE_UPDATE,
                 bytes((self.operation,)) + self.points.to_bytes(A.POINTS_LENGTH, "big")),
            _rec(R_TRANSACTION_COUNTER, self.counter.to_bytes(A.COUNTER_LENGTH, "big")),
        ]))
        return [self.session.record(), status,
                _rec(R_SIGNATURE, _formatted(PayloadFormat.BINARY, self.signature)),
                _rec(A.RECORD_LEDGER_MAC, self.mac)]

    def _prefix(self, count: int) -> bytes:
        # The first *count* records exactly as they sit in the request (never last).
        return b"".join(r.encode(i == 0, False) for i, r in enumerate(self._records()[:count]))

    def signed_part(self) -> bytes:
        """Wire bytes the till's signature covers: ``ses`` and ``ssr``."""
        return self._prefix(2)

    def authenticated_part(self) -> bytes:
        """Wire bytes the MAC covers: ``ses``, ``ssr`` and ``sig``."""
        return self._prefix(3)

    def encode(self) -> bytes:
        return encode_message([_rec(R_PUSH_REQUEST, self.version.to_bytes(2, "big")
                                    + encode_message(self._records()))])

    @classmethod
    def parse(cls, data: bytes) -> tuple[PushRequest, bytes, bytes]:
        """The request and the exact received bytes its signature and its MAC cover."""
        spr = _need(_decode(data, "push request"), R_PUSH_REQUEST, "push request")
        version, rest = _version(spr.payload, "spr")
        inner = _decode(rest, "spr payload")
        names = [smart_tap_name(r) for r in inner]
        if names != [R_SESSION, R_SERVICE_STATUS, R_SIGNATURE, A.RECORD_LEDGER_MAC]:
            raise SmartTapFormatError(
                f"spr holds {[n.decode(errors='replace') for n in names]}; "
                "expected ses, ssr, sig, mac")
        sizes = [len(r.encode(i == 0, i == 3)) for i, r in enumerate(inner)]
        signed, covered = rest[:sizes[0] + sizes[1]], rest[:sum(sizes[:3])]
        session = Session.parse(inner[0])
        status = _decode(inner[1].payload, "ssr payload")
        oid = _unformatted(_need(status, R_OBJECT_ID, "ssr").payload, "oid")
        sup = _need(status, R_SERVICE_UPDATE, "ssr").payload
        if len(sup) != 1 + A.POINTS_LENGTH:
            raise SmartTapFormatError(f"sup is {len(sup)} bytes, expected {1 + A.POINTS_LENGTH}")
        counter = _uint(_need(status, R_TRANSACTION_COUNTER, "ssr").payload, A.COUNTER_LENGTH,
                        "tcr")
        request = cls(session, oid, sup[0], int.from_bytes(sup[1:], "big"), counter,
                      _unformatted(inner[2].payload, "sig"), inner[3].payload, version)
        return request, signed, covered


@dataclass(frozen=True)
class LedgerResult:
    """The card's answer to a ledger update (travels encrypted in the ``psr`` bundle)."""

    object_id: bytes
    status: int
    balance: int
    counter: int

    def encode(self) -> bytes:
        return encode_message([_rec(R_SERVICE_STATUS, encode_message([
            _rec(R_OBJECT_ID, _formatted(PayloadFormat.BINARY, self.object_id), with_id=True),
            _rec(R_SERVICE_USAGE, bytes((self.status,))),
            _rec(A.RECORD_BALANCE, self.balance.to_bytes(A.POINTS_LENGTH, "big")),
            _rec(R_TRANSACTION_COUNTER, self.counter.to_bytes(A.COUNTER_LENGTH, "big")),
        ]))])

    @classmethod
    def parse(cls, data: bytes) -> LedgerResult:
        ssr = _need(_decode(data, "ledger result"), R_SERVICE_STATUS, "ledger result")
        fields = _decode(ssr.payload, "ssr payload")
        usage = _exact(_need(fields, R_SERVICE_USAGE, "ssr").payload, 1, "sug")
        return cls(
            _unformatted(_need(fields, R_OBJECT_ID, "ssr").payload, "oid"),
            usage[0],
            _uint(_need(fields, A.RECORD_BALANCE, "ssr").payload, A.POINTS_LENGTH, "bal"),
            _uint(_need(fields, R_TRANSACTION_COUNTER, "ssr").payload, A.COUNTER_LENGTH, "tcr"),
        )


@dataclass(frozen=True)
class PushResponse:
    """``psr``: the session record and an encrypted bundle holding a :class:`LedgerResult`."""

    session: Session
    bundle_flags: int
    bundle: bytes

    def encode(self) -> bytes:
        reb = _rec(R_RECORD_BUNDLE, bytes((self.bundle_flags,)) + self.bundle)
        return encode_message([_rec(R_PUSH_RESPONSE,
                                    encode_message([self.session.record(), reb]))])

    @classmethod
    def parse(cls, data: bytes) -> PushResponse:
        parsed = ServiceResponse.parse(data, outer=R_PUSH_RESPONSE)
        return cls(parsed.session, parsed.bundle_flags, parsed.bundle)


def record_name(record: NdefRecord) -> str:
    """For messages: a record's Smart Tap name as text."""
    return smart_tap_name(record).decode("ascii", "replace") if record.tnf is not Tnf.EMPTY else "(empty)"

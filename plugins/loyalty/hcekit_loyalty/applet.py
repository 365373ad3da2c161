"""The loyalty pass as it serves a till: a Smart-Tap-2.1-style protocol over a points ledger.

Flow a till drives (one tap)::

    SELECT OSE.VAS.01            → FCI: label, device nonce, device ephemeral key
    SELECT A000000476D0000111    → versions + the same device nonce (optional)
    90 53 NEGOTIATE              → merchant signature checked, session keys derived
    90 50 GET DATA               → encrypted loyalty object (member ID, balance), offers
    90 C0 GET MORE DATA          → the rest of a long answer (after 9100)
    90 52 PUSH DATA              → MAC'd earn/redeem; encrypted result

The nonce and the ephemeral key live for one field presentation (both AIDs
share them, as on a phone); the secure session lives until the next SELECT
or the field drops. The card answers only collectors it holds a program for.
:class:`~hcekit_loyalty.plugin.LoyaltyPlugin` creates the applet at the first
SELECT and hands it every command.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import SW, AppContext, CommandApdu, IsoError, ResponseApdu

from . import assumptions as A
from .crypto import (
    SessionKeys,
    compressed,
    derive_session_keys,
    ecdh,
    ledger_mac_ok,
    ledger_signed_data,
    new_ephemeral,
    seal,
    signed_data,
    verify,
)
from .ledger import ReplayError, apply_update
from .programs import Program, ProgramBook
from .protocol import (
    AID_OSE,
    CLA_SMART_TAP,
    INS_GET_DATA,
    INS_GET_MORE_DATA,
    INS_NEGOTIATE,
    INS_PUSH_DATA,
    NONCE_LENGTH,
    VERSION,
    CustomerObject,
    LedgerResult,
    LoyaltyObject,
    NegotiateRequest,
    NegotiateResponse,
    PushRequest,
    PushResponse,
    ServiceObjects,
    ServiceRequest,
    ServiceResponse,
    ServiceType,
    Session,
    encode_ose_fci,
    encode_select_response,
)
from .status import SmartTapSW

__all__ = ["LoyaltyApplet"]

SHORT_NE = 256


@dataclass
class _SecureSession:
    id: bytes
    expected_sequence: int
    collector_id: int
    key_version: int
    keys: SessionKeys
    live: bool


@dataclass
class _Tap:
    """What lives for one presentation to the reader."""

    nonce: bytes
    ephemeral: ec.EllipticCurvePrivateKey
    secure: _SecureSession | None = None
    pending: bytes = b""
    pending_sw: int = SmartTapSW.OK
    device_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.device_key = compressed(self.ephemeral.public_key())


class LoyaltyApplet:
    """Serves one card's programs: the tap state, the secure session, the ledger."""

    def __init__(self, book: ProgramBook, label: bytes) -> None:
        self.book = book
        self._tap: _Tap | None = None
        self._label = label

    def end_tap(self) -> None:
        """The field went or the application was deactivated: the nonce and keys are gone."""
        self._tap = None

    def _current_tap(self) -> _Tap:
        if self._tap is None:
            self._tap = _Tap(os.urandom(NONCE_LENGTH), new_ephemeral())
        return self._tap

    # -- SELECT ------------------------------------------------------------------------

    def select(self, app: AppContext, command: CommandApdu) -> bytes:
        tap = self._current_tap()
        tap.secure = None
        tap.pending = b""
        if app.aid == AID_OSE:
            return encode_ose_fci(tap.nonce, tap.device_key, self._label)
        return encode_select_response(tap.nonce)

    # -- commands ----------------------------------------------------------------------

    def process(self, app: AppContext, command: CommandApdu) -> ResponseApdu:
        if command.cla != CLA_SMART_TAP:
            raise IsoError(SW.CLA_NOT_SUPPORTED, f"Smart Tap commands use CLA 90, not {command.cla:02X}")
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "Smart Tap commands take P1-P2 = 0000")
        tap = self._current_tap()
        ins = command.ins
        if ins == INS_NEGOTIATE:
            app.mark_sensitive()
            return self._negotiate(tap, command)
        if ins == INS_GET_DATA:
            app.mark_sensitive()
            return self._get_data(tap, command)
        if ins == INS_GET_MORE_DATA:
            app.mark_sensitive()
            return self._more(tap, command)
        if ins == INS_PUSH_DATA:
            app.mark_sensitive()
            return self._push(tap, command)
        raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {ins:02X} is not a Smart Tap command")

    def _program(self, collector_id: int) -> Program:
        program = self.book.get(collector_id)
        if program is None:
            raise IsoError(SmartTapSW.UNKNOWN_MERCHANT,
                           f"no program for collector {collector_id} on this card")
        return program

    @staticmethod
    def _check_version(version: int) -> None:
        if version != VERSION:
            raise IsoError(SmartTapSW.UNSUPPORTED_VERSION,
                           f"request version {version:04X}; this card speaks {VERSION:04X}")

    @staticmethod
    def _check_session(secure: _SecureSession, session: Session) -> None:
        if session.id != secure.id:
            raise IsoError(SmartTapSW.INVALID_SEQUENCE, "session ID differs from the negotiated one")
        if session.sequence != secure.expected_sequence:
            raise IsoError(SmartTapSW.INVALID_SEQUENCE,
                           f"sequence {session.sequence}, expected {secure.expected_sequence}")

    def _deliver(self, tap: _Tap, command: CommandApdu, data: bytes, sw: int) -> ResponseApdu:
        """Smart Tap's own chaining: at most Ne bytes now, 9100 while more waits."""
        ne = command.le if command.le is not None else SHORT_NE
        if len(data) <= ne:
            tap.pending = b""
            return ResponseApdu(data, sw)
        tap.pending = data[ne:]
        tap.pending_sw = sw
        return ResponseApdu(data[:ne], SmartTapSW.MORE_DATA)

    def _negotiate(self, tap: _Tap, command: CommandApdu) -> ResponseApdu:
        tap.secure = None
        request = NegotiateRequest.parse(command.data)
        self._check_version(request.version)
        program = self._program(request.collector_id)
        merchant_key = program.merchant_key(request.key_version)
        if merchant_key is None:
            raise IsoError(SmartTapSW.AUTHENTICATION_FAILED,
                           f"collector {program.collector_id} has no key version "
                           f"{request.key_version}")
        signed = signed_data(request.terminal_nonce, tap.nonce, request.collector_id,
                             request.terminal_key, live_auth=request.live_auth)
        if not verify(merchant_key, request.signature, signed):
            raise IsoError(SmartTapSW.AUTHENTICATION_FAILED,
                           "merchant signature does not verify with the program's key")
        try:
            shared = ecdh(tap.ephemeral, request.terminal_key)
        except ValueError:
            raise IsoError(SmartTapSW.FORMAT_INVALID, "terminal ephemeral key is not a P-256 point") from None
        info = signed if A.SIGNED_DATA_IN_HKDF_INFO else signed_data(
            request.terminal_nonce, tap.nonce, request.collector_id, request.terminal_key)
        keys = derive_session_keys(shared, tap.device_key, info, request.signature)
        reply = request.session.next()
        tap.secure = _SecureSession(request.session.id, reply.sequence, request.collector_id,
                                    request.key_version, keys, request.live_auth)
        sw = SmartTapSW.OK if request.live_auth else SmartTapSW.OK_PRESIGNED_AUTH
        return ResponseApdu(NegotiateResponse(reply, tap.device_key).encode(), sw)

    def _secure(self, tap: _Tap) -> _SecureSession:
        if tap.secure is None:
            raise IsoError(SmartTapSW.SESSION_REQUIRED, "negotiate a secure session first")
        return tap.secure

    def _get_data(self, tap: _Tap, command: CommandApdu) -> ResponseApdu:
        secure = self._secure(tap)
        request = ServiceRequest.parse(command.data)
        self._check_version(request.version)
        self._check_session(secure, request.session)
        if request.collector_id != secure.collector_id:
            raise IsoError(SmartTapSW.UNKNOWN_MERCHANT,
                           "service request names another collector than the negotiation")
        program = self._program(secure.collector_id)
        objects = self._objects(program, set(request.service_types))
        passes = bool(objects.loyalty or objects.offers)
        plaintext = objects.encode() if (passes or objects.customer) else b""
        flags = A.BUNDLE_FLAG_ENCRYPTED
        if request.zlib_supported and plaintext:
            plaintext = zlib.compress(plaintext)
            flags |= A.BUNDLE_FLAG_COMPRESSED
        reply = request.session.next()
        secure.expected_sequence = reply.sequence
        bundle = seal(secure.keys, plaintext)
        data = ServiceResponse(reply, flags, bundle).encode()
        return self._deliver(tap, command, data,
                             SmartTapSW.OK if passes else SmartTapSW.OK_NO_PASSES)

    def _objects(self, program: Program, wanted: set[int]) -> ServiceObjects:
        everything = bool(wanted & {ServiceType.ALL, ServiceType.ALL_EXCEPT_PPSE})
        objects = ServiceObjects()
        if everything or ServiceType.LOYALTY in wanted:
            book = self.book
            objects.loyalty.append(LoyaltyObject(
                program.object_id, program.member_id,
                book.balance(program.collector_id), book.counter(program.collector_id)))
        if everything or ServiceType.OFFER in wanted:
            objects.offers.extend(program.offers)
        if everything or ServiceType.WALLET_CUSTOMER in wanted:
            objects.customer = CustomerObject(program.customer_id)
        return objects

    def _more(self, tap: _Tap, command: CommandApdu) -> ResponseApdu:
        if not tap.pending:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "no more data pending")
        return self._deliver(tap, command, tap.pending, tap.pending_sw)

    def _push(self, tap: _Tap, command: CommandApdu) -> ResponseApdu:
        secure = self._secure(tap)
        request, signed_part, covered = PushRequest.parse(command.data)
        self._check_version(request.version)
        self._check_session(secure, request.session)
        if not secure.live:
            raise IsoError(SmartTapSW.AUTHENTICATION_FAILED,
                           "ledger updates need a live-authenticated session")
        if not ledger_mac_ok(secure.keys, covered, request.mac):
            tap.secure = None
            raise IsoError(SmartTapSW.AUTHENTICATION_FAILED, "ledger MAC does not verify")
        merchant_key = self._program(secure.collector_id).merchant_key(secure.key_version)
        if merchant_key is None or not verify(merchant_key, request.signature,
                                              ledger_signed_data(tap.nonce, signed_part)):
            tap.secure = None
            raise IsoError(SmartTapSW.AUTHENTICATION_FAILED,
                           "ledger update is not signed with the merchant key")
        try:
            outcome = apply_update(self.book, secure.collector_id, request.object_id,
                                   request.operation, request.points, request.counter)
        except ReplayError as exc:
            raise IsoError(SmartTapSW.INVALID_SEQUENCE, str(exc)) from None
        reply = request.session.next()
        secure.expected_sequence = reply.sequence
        result = LedgerResult(request.object_id, outcome.status, outcome.balance, outcome.counter)
        bundle = seal(secure.keys, result.encode())
        return ResponseApdu(PushResponse(reply, A.BUNDLE_FLAG_ENCRYPTED, bundle).encode(),
                            SmartTapSW.OK)

    def __repr__(self) -> str:
        return "LoyaltyApplet()"

"""The reader side: a Smart Tap till that reads the member ID and earns or redeems points.

:class:`SmartTapTill` speaks the protocol over any :class:`hcekit.terminal.Terminal`
(loopback, PC/SC against the virtual card, PC/SC against a phone). It checks
everything the card sends back: versions, session IDs and sequence numbers,
the record-bundle HMAC, the ledger result's object and counter. A card that
refuses the merchant key, or an answer that fails a check, raises
:class:`TillError`; the ``loyalty-till`` script reports it and exits non-zero.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hcekit import CommandApdu, ResponseApdu
from hcekit.errors import HcekitError
from hcekit.sw import SW
from hcekit.terminal import ScriptContext, ScriptOptionError, Terminal, TerminalScript

from . import assumptions as A
from .crypto import (
    IntegrityError,
    SessionKeys,
    compressed,
    derive_session_keys,
    ecdh,
    ledger_mac,
    ledger_signed_data,
    new_ephemeral,
    open_sealed,
    sign,
    signed_data,
)
from .protocol import (
    AID_OSE,
    AID_SMART_TAP_2,
    CLA_SMART_TAP,
    INS_GET_DATA,
    INS_GET_MORE_DATA,
    INS_NEGOTIATE,
    INS_PUSH_DATA,
    SESSION_ID_LENGTH,
    VERSION,
    LedgerResult,
    LoyaltyObject,
    NegotiateRequest,
    NegotiateResponse,
    OseInfo,
    PushRequest,
    PushResponse,
    ServiceObjects,
    ServiceRequest,
    ServiceResponse,
    ServiceType,
    Session,
    SystemCapability,
    UpdateOperation,
    UsageStatus,
    parse_ose_fci,
    parse_select_response,
)
from .status import SmartTapSW, describe
from .testkeys import TEST_COLLECTOR_ID, TEST_KEY_VERSION, load_test_merchant_key

__all__ = ["MerchantCredentials", "SmartTapTill", "TillError", "run_till", "TILL_SCRIPT"]

#: POS capabilities we announce: standalone, zlib supported; VAS type "pass only".
POS_CAPABILITIES = bytes((SystemCapability.STANDALONE | SystemCapability.ZLIB_SUPPORTED,
                          0, 0, 0, 0x01))
MAX_MORE_DATA_ROUNDS = 64


class TillError(HcekitError):
    """The card refused, or its answer failed a check; the message says which."""


@dataclass(frozen=True)
class MerchantCredentials:
    """What a till holds: the collector ID and its long-term signing key (by version)."""

    collector_id: int
    key_version: int
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def test(cls) -> MerchantCredentials:
        """The public TEST collector (see :mod:`.testkeys`)."""
        return cls(TEST_COLLECTOR_ID, TEST_KEY_VERSION, load_test_merchant_key())

    def __repr__(self) -> str:
        return f"MerchantCredentials(collector_id={self.collector_id}, key_version={self.key_version})"


@dataclass
class _Session:
    record: Session
    keys: SessionKeys
    loyalty: LoyaltyObject | None = None


@dataclass
class SmartTapTill:
    terminal: Terminal
    merchant: MerchantCredentials = field(default_factory=MerchantCredentials.test)
    live_auth: bool = True
    ose: OseInfo | None = None
    device_nonce: bytes = b""
    _session: _Session | None = None

    # -- wire helpers -----------------------------------------------------------------

    def _send(self, ins: int, data: bytes, what: str,
              accept: tuple[int, ...] = (SmartTapSW.OK,)) -> ResponseApdu:
        # every Smart Tap command carries session keys or pass data: redacted as on the card
        with self.terminal.sensitive():
            response = self.terminal.transmit(CommandApdu(CLA_SMART_TAP, ins, 0, 0, data, 256))
            chunks = [response.data]
            rounds = 0
            while response.sw == SmartTapSW.MORE_DATA:
                rounds += 1
                if rounds > MAX_MORE_DATA_ROUNDS:
                    raise TillError(f"{what}: card kept answering 9100")
                response = self.terminal.transmit(
                    CommandApdu(CLA_SMART_TAP, INS_GET_MORE_DATA, 0, 0, b"", 256))
                chunks.append(response.data)
        if response.sw not in accept:
            raise TillError(f"{what}: card answered {response.sw:04X} {describe(response.sw)}")
        return ResponseApdu(b"".join(chunks), response.sw)

    def _expect_session(self, got: Session, sent: Session, what: str) -> None:
        if got.id != sent.id or got.sequence != (sent.sequence + 1) & 0xFF:
            raise TillError(f"{what}: session {got.id.hex()}/{got.sequence} does not answer "
                            f"{sent.id.hex()}/{sent.sequence}")

    def _open(self, keys: SessionKeys, flags: int, bundle: bytes, what: str) -> bytes:
        if not flags & A.BUNDLE_FLAG_ENCRYPTED:
            raise TillError(f"{what}: the card sent an unencrypted bundle")
        try:
            plain = open_sealed(keys, bundle)
        except IntegrityError as exc:
            raise TillError(f"{what}: response failed its integrity check ({exc})") from None
        if flags & A.BUNDLE_FLAG_COMPRESSED:
            try:
                plain = zlib.decompress(plain)
            except zlib.error as exc:
                raise TillError(f"{what}: compressed bundle does not inflate ({exc})") from None
        return plain

    # -- the steps ----------------------------------------------------------------------

    def select(self) -> OseInfo:
        """SELECT OSE.VAS.01, then SELECT SMART TAP 2; keep the device nonce."""
        response = self.terminal.select(AID_OSE)
        if response.sw == SW.FILE_NOT_FOUND:
            raise TillError("no Smart Tap wallet on this device (OSE.VAS.01 not found)")
        if not response.ok:
            raise TillError(f"SELECT OSE: card answered {response.sw:04X} {describe(response.sw)}")
        self.ose = parse_ose_fci(response.data)
        response = self.terminal.select(AID_SMART_TAP_2)
        if not response.ok:
            raise TillError(
                f"SELECT SMART TAP 2: card answered {response.sw:04X} {describe(response.sw)}")
        low, high, nonce = parse_select_response(response.data)
        if not low <= VERSION <= high:
            raise TillError(f"card speaks Smart Tap {low:04X}..{high:04X}, not {VERSION:04X}")
        self.device_nonce = nonce
        self._session = None
        return self.ose

    def negotiate(self) -> None:
        """Prove the merchant key and derive the session keys (NEGOTIATE, 90 53)."""
        if not self.device_nonce:
            raise TillError("select the card before negotiating")
        ephemeral = new_ephemeral()
        terminal_key = compressed(ephemeral.public_key())
        terminal_nonce = os.urandom(32)
        signed = signed_data(terminal_nonce, self.device_nonce, self.merchant.collector_id,
                             terminal_key, live_auth=self.live_auth)
        signature = sign(self.merchant.private_key, signed)
        sent = Session(os.urandom(SESSION_ID_LENGTH), 1)
        request = NegotiateRequest(sent, terminal_nonce, self.live_auth, terminal_key,
                                   self.merchant.key_version, signature, self.merchant.collector_id)
        try:
            response = self._send(INS_NEGOTIATE, request.encode(), "NEGOTIATE",
                                  (SmartTapSW.OK, SmartTapSW.OK_PRESIGNED_AUTH))
        except TillError as exc:
            if f"{SmartTapSW.AUTHENTICATION_FAILED:04X}" in str(exc):
                raise TillError(f"the card refused the merchant key: {exc}") from None
            raise
        answer = NegotiateResponse.parse(response.data)
        self._expect_session(answer.session, sent, "NEGOTIATE")
        if self.ose is not None and self.ose.device_key and self.ose.device_key != answer.device_key:
            raise TillError("NEGOTIATE: device key differs from the one announced in OSE")
        try:
            shared = ecdh(ephemeral, answer.device_key)
        except ValueError:
            raise TillError("NEGOTIATE: device ephemeral key is not a P-256 point") from None
        keys = derive_session_keys(shared, answer.device_key, signed, signature)
        self._session = _Session(answer.session, keys)

    def _need_session(self) -> _Session:
        if self._session is None:
            raise TillError("negotiate a secure session first")
        return self._session

    def get_data(self, types: tuple[int, ...] = (ServiceType.ALL,)) -> ServiceObjects:
        """GET SMART TAP DATA: decrypt and return the service objects."""
        session = self._need_session()
        sent = session.record
        request = ServiceRequest(sent, self.merchant.collector_id, types, POS_CAPABILITIES)
        response = self._send(INS_GET_DATA, request.encode(), "GET DATA",
                              (SmartTapSW.OK, SmartTapSW.OK_NO_PASSES))
        answer = ServiceResponse.parse(response.data)
        self._expect_session(answer.session, sent, "GET DATA")
        plain = self._open(session.keys, answer.bundle_flags, answer.bundle, "GET DATA")
        objects = ServiceObjects.parse(plain) if plain else ServiceObjects()
        session.record = answer.session
        session.loyalty = objects.loyalty[0] if objects.loyalty else session.loyalty
        return objects

    def update(self, operation: UpdateOperation, points: int) -> LedgerResult:
        """PUSH DATA one earn/redeem; the card's result, checked and decrypted."""
        session = self._need_session()
        loyalty = session.loyalty
        if loyalty is None:
            raise TillError("read the loyalty object (GET DATA) before updating points")
        if loyalty.counter is None:
            raise TillError("this pass carries no points ledger (no bal/tcr records): "
                            "not an hcekit loyalty card")
        if not 0 < points <= A.MAX_POINTS:
            raise TillError(f"points must be 1..{A.MAX_POINTS}, got {points}")
        sent = session.record
        bare = PushRequest(sent, loyalty.object_id, operation, points, loyalty.counter + 1)
        signature = sign(self.merchant.private_key,
                         ledger_signed_data(self.device_nonce, bare.signed_part()))
        signed = replace(bare, signature=signature)
        request = replace(signed, mac=ledger_mac(session.keys, signed.authenticated_part()))
        response = self._send(INS_PUSH_DATA, request.encode(), "PUSH DATA")
        answer = PushResponse.parse(response.data)
        self._expect_session(answer.session, sent, "PUSH DATA")
        result = LedgerResult.parse(
            self._open(session.keys, answer.bundle_flags, answer.bundle, "PUSH DATA"))
        if result.object_id != loyalty.object_id or result.counter != request.counter:
            raise TillError("PUSH DATA: the result answers another object or counter")
        session.record = answer.session
        session.loyalty = LoyaltyObject(loyalty.object_id, loyalty.member_id, result.balance,
                                        result.counter)
        return result


# -- the terminal script ----------------------------------------------------------------------


def _merchant_from(ctx: ScriptContext) -> MerchantCredentials:
    given = ctx.extras.get("merchant")
    if isinstance(given, MerchantCredentials):
        return given
    key_file = ctx.path("merchant_key")
    if key_file is None:
        return MerchantCredentials(ctx.integer("collector_id", TEST_COLLECTOR_ID, minimum=0),
                                   ctx.integer("key_version", TEST_KEY_VERSION, minimum=0),
                                   load_test_merchant_key())
    if "collector_id" not in ctx.options:
        raise ScriptOptionError("option merchant_key needs collector_id too")
    try:
        key = load_pem_private_key(key_file.read_bytes(), password=None)
    except ValueError as exc:
        raise ScriptOptionError(f"option merchant_key={key_file}: not a PEM private key "
                                f"({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ScriptOptionError(f"option merchant_key={key_file}: not an EC private key")
    return MerchantCredentials(ctx.integer("collector_id", 0, minimum=0),
                               ctx.integer("key_version", 1, minimum=0), key)


def run_till(ctx: ScriptContext) -> int:
    """Till: select, negotiate, read the member ID, earn/redeem, print the result.

    Runs inside the tap the caller opened (``hcekit demo`` / ``hcekit tap`` do).

    Options: ``op=earn|redeem|read`` (default earn), ``points=N`` (default 10),
    ``collector_id=``, ``key_version=``, ``merchant_key=PEM file`` (default: the
    public TEST collector and key).
    """
    merchant = _merchant_from(ctx)  # options first (hcekit.terminal.script.rehearse)
    op = ctx.choice("op", ("earn", "redeem", "read"), "earn")
    points = ctx.integer("points", 10, minimum=0)
    till = SmartTapTill(ctx.terminal, merchant)
    try:
        ose = till.select()
        ctx.echo(f"Wallet {ose.label.decode(errors='replace')!r}, Smart Tap {VERSION:04X}")
        till.negotiate()
        ctx.echo(f"Secure session with collector {merchant.collector_id} "
                 f"(key version {merchant.key_version})")
        objects = till.get_data()
        if not objects.loyalty:
            ctx.echo("No loyalty pass for this merchant on the device")
            return 1
        card = objects.loyalty[0]
        ctx.echo(f"Member ID: {card.member_id.decode(errors='replace')}  "
                 f"balance: {card.balance} points")
        for offer in objects.offers:
            ctx.echo(f"Offer: {offer.code.decode(errors='replace')}")
        if op == "read":
            return 0
        operation = (UpdateOperation.ADD_BALANCE if op == "earn"
                     else UpdateOperation.SUBTRACT_BALANCE)
        result = till.update(operation, points)
        if result.status != UsageStatus.SUCCESS:
            ctx.echo(f"Refused by the card ({UsageStatus(result.status).name}): "
                     f"balance stays {result.balance} points")
            return 1
        verb = "Earned" if op == "earn" else "Redeemed"
        ctx.echo(f"{verb} {points} points: balance {result.balance} "
                 f"(ledger counter {result.counter})")
        return 0
    except HcekitError as exc:  # TillError, malformed answers, transport errors
        ctx.echo(f"REJECTED: {exc}")
        return 1


TILL_SCRIPT = TerminalScript(
    "loyalty-till",
    "Smart Tap loyalty till: read the member ID and earn/redeem points (TEST keys by default)",
    run_till,
    demo=True,
    options={
        "op": "earn, redeem or read (default earn)",
        "points": "points to earn or redeem (default 10)",
        "collector_id": "merchant collector ID (default: the public TEST collector)",
        "key_version": "merchant key version (default 1)",
        "merchant_key": "merchant's long-term EC private key, PEM file",
    },
)

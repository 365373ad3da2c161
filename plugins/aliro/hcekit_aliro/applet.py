"""The Aliro credential's two applications as plain state machines (no hook glue).

:class:`ExpeditedSession` is one selection of the expedited-phase AID:

=================  ===========================  =====================================
state              command                      next state
=================  ===========================  =====================================
any                AUTH0 (standard)             AUTH0_DONE (a new transaction)
any                AUTH0 (fast, Kpersistent)    FAST_DONE (secure channel up)
AUTH0_DONE         LOAD CERT (good cert)        AUTH0_DONE (reader key from the cert)
AUTH0_DONE         AUTH1 (good signature)       SECURE (Kpersistent stored)
FAST_DONE          AUTH1 (good signature)       SECURE (standard after fast)
FAST_DONE/SECURE   EXCHANGE                     same
any                CONTROL FLOW                 CLOSED
any                a failed AUTH1 signature     CLOSED (reader must start with AUTH0)
=================  ===========================  =====================================

Anything else answers :data:`~.assumptions.SW_SEQUENCE`. :class:`StepUpSession`
is one selection of the step-up AID; it answers ENVELOPE with the step-up keys
the expedited AUTH1 of the same tap derived.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import SW, CommandApdu, IsoError, tlv

from . import cbor
from .assumptions import (
    AUTH0_IGNORES_UNKNOWN_TAGS,
    AUTH1_IGNORES_UNKNOWN_TAGS,
    EXCHANGE_AFTER_STEP_UP_TRIES_STEP_UP_KEYS,
    SUPPORTED_VERSIONS,
    SW_BAD_CERTIFICATE,
    SW_BAD_DATA,
    SW_BAD_SIGNATURE,
    SW_COUNTER_EXHAUSTED,
    SW_DECRYPT_FAILED,
    SW_NO_STEP_UP_SESSION,
    SW_READER_NOT_TRUSTED,
    SW_SEQUENCE,
    SW_UNSUPPORTED_VERSION,
    SW_WRONG_P1P2,
)
from .certificate import CertificateError, ReaderCertificate
from .chaining import CLA_CHAINING, CommandChain
from .credential import Credential
from .crypto import (
    CryptoError,
    DecryptionFailed,
    GcmChannel,
    KdfInputs,
    authentication_data,
    cryptogram_seal,
    derive_fast,
    derive_kdh,
    derive_persistent,
    derive_standard,
    generate_key,
    key_slot,
    load_point,
    point_of,
    sign_raw,
    verify_raw,
)
from .fci import proprietary_tlv
from .mailbox import apply_operations, parse_exchange
from .protocol import (
    ACCESS_DOCUMENT_TYPE,
    AUTH1_WANTS_PUBLIC_KEY,
    BIT_ACCESS_DOCUMENT,
    BIT_MAILBOX_NONZERO,
    BIT_MAILBOX_READ,
    BIT_MAILBOX_WRITE,
    BIT_REVOCATION_DOCUMENT,
    BIT_STEP_UP_SELECT,
    CLA_INTERINDUSTRY,
    CLA_PROPRIETARY,
    CRYPTOGRAM_LENGTH,
    ENDPOINT_CONTEXT,
    FLOW_FAST,
    GCM_TAG_LENGTH,
    INS_AUTH0,
    INS_AUTH1,
    INS_CONTROL_FLOW,
    INS_ENVELOPE,
    INS_EXCHANGE,
    INS_LOAD_CERT,
    POINT_LENGTH,
    POLICY_FORCE_USER_AUTHENTICATION,
    POLICY_USER_DEVICE,
    READER_CONTEXT,
    READER_GROUP_LENGTH,
    READER_ID_LENGTH,
    REVOCATION_DOCUMENT_TYPE,
    SIGNATURE_LENGTH,
    TAG_AUTH0_VENDOR,
    TAG_AUTH_POLICY,
    TAG_CERTIFICATE,
    TAG_COMMAND_PARAMETERS,
    TAG_CREDENTIAL_TIMESTAMP,
    TAG_CRYPTOGRAM,
    TAG_DOMAIN_SPECIFIC,
    TAG_ENDPOINT_EPHEMERAL,
    TAG_ENDPOINT_PUBLIC_KEY,
    TAG_ENVELOPE_MESSAGE,
    TAG_KEY_SLOT,
    TAG_READER_EPHEMERAL,
    TAG_READER_ID,
    TAG_REVOCATION_TIMESTAMP,
    TAG_S1,
    TAG_S2,
    TAG_SIGNALING_BITMAP,
    TAG_SIGNATURE,
    TAG_TRANSACTION_ID,
    TAG_VERSION,
    TRANSACTION_ID_LENGTH,
    VENDOR_EXTENSION_MAX,
)
from .stepup import StepUpError, answer_device_request

__all__ = ["ExpeditedSession", "Phase", "StepUpKeys", "StepUpSession"]


class Phase(enum.Enum):
    SELECTED = "selected"
    AUTH0_DONE = "auth0"
    FAST_DONE = "fast"
    SECURE = "secure"
    CLOSED = "closed"


@dataclass(frozen=True)
class StepUpKeys:
    sk_reader: bytes
    sk_device: bytes


@dataclass
class _Auth0:
    reader_id: bytes
    reader_ephemeral: bytes
    transaction_id: bytes
    command_parameters: int
    policy: int
    version: int
    ephemeral_key: ec.EllipticCurvePrivateKey
    reader_public: bytes | None = None   # from a certificate (LOAD CERT / tag 90)

    def inputs(self, reader_public: bytes) -> KdfInputs:
        return KdfInputs(reader_public, self.reader_id, self.version, self.reader_ephemeral,
                         self.transaction_id, self.command_parameters, self.policy,
                         proprietary_tlv(), point_of(self.ephemeral_key))


def _fields(data: bytes, allowed: dict[int, tuple[int, int]], what: str, *,
            ignore_unknown: bool = False) -> dict[int, bytes]:
    """Each allowed tag at most once with a length in range; 6A80 otherwise. Unknown tags
    are refused, or skipped with *ignore_unknown* (see :data:`~.assumptions.AUTH0_IGNORES_UNKNOWN_TAGS`)."""
    try:
        objects = tlv.parse(data)
    except tlv.TlvError as exc:
        raise IsoError(SW_BAD_DATA, f"{what}: {exc.message}") from None
    fields: dict[int, bytes] = {}
    for obj in objects:
        if obj.tag not in allowed:
            if ignore_unknown:
                continue
            raise IsoError(SW_BAD_DATA, f"{what}: unexpected tag {obj.tag:X}")
        if obj.tag in fields:
            raise IsoError(SW_BAD_DATA, f"{what}: tag {obj.tag:X} repeated")
        low, high = allowed[obj.tag]
        if not low <= len(obj.value) <= high:
            raise IsoError(SW_BAD_DATA, f"{what}: tag {obj.tag:X} has {len(obj.value)} bytes")
        fields[obj.tag] = obj.value
    return fields


def _require(fields: dict[int, bytes], tags: tuple[int, ...], what: str) -> None:
    missing = [f"{t:X}" for t in tags if t not in fields]
    if missing:
        raise IsoError(SW_BAD_DATA, f"{what}: missing tag(s) {', '.join(missing)}")


_AUTH0_FIELDS = {
    TAG_COMMAND_PARAMETERS: (1, 1), TAG_AUTH_POLICY: (1, 1), TAG_VERSION: (2, 2),
    TAG_READER_EPHEMERAL: (POINT_LENGTH, POINT_LENGTH),
    TAG_TRANSACTION_ID: (TRANSACTION_ID_LENGTH, TRANSACTION_ID_LENGTH),
    TAG_READER_ID: (READER_ID_LENGTH, READER_ID_LENGTH), TAG_AUTH0_VENDOR: (0, VENDOR_EXTENSION_MAX),
}
_AUTH1_FIELDS = {TAG_COMMAND_PARAMETERS: (1, 1), TAG_SIGNATURE: (SIGNATURE_LENGTH, SIGNATURE_LENGTH),
                 TAG_CERTIFICATE: (1, 1024)}
_CONTROL_FLOW_FIELDS = {TAG_S1: (1, 1), TAG_S2: (1, 1), TAG_DOMAIN_SPECIFIC: (0, 250)}
_PROPRIETARY_INS = (INS_AUTH0, INS_AUTH1, INS_LOAD_CERT, INS_EXCHANGE, INS_CONTROL_FLOW)


def _check_header(command: CommandApdu) -> None:
    if command.ins not in _PROPRIETARY_INS:
        raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {command.ins:02X} is not an Aliro "
                                             "expedited-phase command")
    if command.cla != CLA_PROPRIETARY:
        raise IsoError(SW.CLA_NOT_SUPPORTED, f"Aliro commands use CLA 80, not {command.cla:02X}")
    if (command.p1, command.p2) != (0, 0):
        raise IsoError(SW_WRONG_P1P2, f"P1-P2 must be 0000, got {command.p1:02X}{command.p2:02X}")


class ExpeditedSession:
    """One selection of the expedited-phase application."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        self.phase = Phase.SELECTED
        self._auth0: _Auth0 | None = None
        self.channel: GcmChannel | None = None
        #: Set by a successful AUTH1: the keys the step-up application needs.
        self.step_up: StepUpKeys | None = None
        #: The step-up channel once it answered an ENVELOPE: EXCHANGE may come under it.
        self.step_up_channel: GcmChannel | None = None
        self.reader_status: int | None = None
        self._chain = CommandChain()

    def process(self, command: CommandApdu) -> bytes:
        command = self._chain.feed(command)
        if command.cla & CLA_CHAINING:
            return b""
        _check_header(command)
        handler = {INS_AUTH0: self._auth0_command, INS_LOAD_CERT: self._load_cert,
                   INS_AUTH1: self._auth1, INS_EXCHANGE: self._exchange,
                   INS_CONTROL_FLOW: self._control_flow}[command.ins]
        return handler(command.data)

    # -- AUTH0 ---------------------------------------------------------------------------------

    def _auth0_command(self, data: bytes) -> bytes:
        # A new AUTH0 restarts the transaction (UD-NFC-AUTH0-1.3/2.1 send two in one
        # selection and expect a fresh credential ephemeral key each time).
        self._close()
        self.step_up = None
        self.step_up_channel = None
        fields = _fields(data, _AUTH0_FIELDS, "AUTH0", ignore_unknown=AUTH0_IGNORES_UNKNOWN_TAGS)
        _require(fields, (TAG_COMMAND_PARAMETERS, TAG_AUTH_POLICY, TAG_VERSION,
                          TAG_READER_EPHEMERAL, TAG_TRANSACTION_ID, TAG_READER_ID), "AUTH0")
        parameters = fields[TAG_COMMAND_PARAMETERS][0]
        if parameters & ~FLOW_FAST:
            raise IsoError(SW_BAD_DATA, f"AUTH0: command parameters {parameters:02X} has RFU bits")
        policy = fields[TAG_AUTH_POLICY][0]
        if not POLICY_USER_DEVICE <= policy <= POLICY_FORCE_USER_AUTHENTICATION:
            raise IsoError(SW_BAD_DATA, f"AUTH0: authentication policy {policy:02X} is unknown")
        version = int.from_bytes(fields[TAG_VERSION], "big")
        if version not in SUPPORTED_VERSIONS:
            raise IsoError(SW_UNSUPPORTED_VERSION, f"AUTH0: protocol version {version:04X} "
                                                   "was not offered in the SELECT answer")
        try:
            load_point(fields[TAG_READER_EPHEMERAL])
        except CryptoError as exc:
            raise IsoError(SW_BAD_DATA, f"AUTH0: reader ephemeral key: {exc}") from None
        state = _Auth0(fields[TAG_READER_ID], fields[TAG_READER_EPHEMERAL],
                       fields[TAG_TRANSACTION_ID], parameters, policy, version, generate_key())
        answer = [tlv.encode(TAG_ENDPOINT_EPHEMERAL, point_of(state.ephemeral_key))]
        self._auth0 = state
        self.phase = Phase.AUTH0_DONE
        if parameters & FLOW_FAST:
            answer.append(tlv.encode(TAG_CRYPTOGRAM, self._fast(state)))
        return b"".join(answer)

    def _fast(self, state: _Auth0) -> bytes:
        cached = self.credential.cached_reader(state.reader_id)
        if cached is None:
            # No Kpersistent for this reader: a random cryptogram, indistinguishable to
            # an eavesdropper, which the reader cannot open; it continues with AUTH1.
            return os.urandom(CRYPTOGRAM_LENGTH)
        keys = derive_fast(cached.kpersistent, state.inputs(cached.reader_public),
                           self.credential.endpoint_public)
        credential_ts, revocation_ts = self.credential.timestamps
        plaintext = b"".join((tlv.encode(TAG_SIGNALING_BITMAP, self.signaling_bitmap()),
                              tlv.encode(TAG_CREDENTIAL_TIMESTAMP, credential_ts),
                              tlv.encode(TAG_REVOCATION_TIMESTAMP, revocation_ts)))
        self.channel = GcmChannel(keys.expedited.sk_reader, keys.expedited.sk_device, device=True)
        self.phase = Phase.FAST_DONE
        return cryptogram_seal(keys.cryptogram_sk, plaintext)

    def signaling_bitmap(self) -> bytes:
        bits = BIT_MAILBOX_READ | BIT_STEP_UP_SELECT
        held = {d.doc_type for d in self.credential.documents}
        if ACCESS_DOCUMENT_TYPE in held:
            bits |= BIT_ACCESS_DOCUMENT
        if REVOCATION_DOCUMENT_TYPE in held:
            bits |= BIT_REVOCATION_DOCUMENT
        if self.credential.mailbox_writable:
            bits |= BIT_MAILBOX_WRITE
        if any(self.credential.mailbox):
            bits |= BIT_MAILBOX_NONZERO
        return bits.to_bytes(2, "big")

    # -- LOAD CERT and AUTH1 ---------------------------------------------------------------------

    def _load_cert(self, data: bytes) -> bytes:
        # After a fast AUTH0 too: a reader that cannot open the cryptogram (a lost cache,
        # a new certificate key) falls back to LOAD CERT + AUTH1, which replaces the stale
        # Kpersistent. It gave up the fast channel, so it is dropped here.
        if self.phase not in (Phase.AUTH0_DONE, Phase.FAST_DONE) or self._auth0 is None:
            raise IsoError(SW_SEQUENCE, "LOAD CERT belongs between AUTH0 and AUTH1")
        if not data:
            raise IsoError(SW_BAD_CERTIFICATE, "LOAD CERT without a certificate")
        self._auth0.reader_public = self._certified_key(self._auth0, data)
        self.phase, self.channel = Phase.AUTH0_DONE, None
        return b""

    def _certified_key(self, state: _Auth0, data: bytes) -> bytes:
        group = self.credential.group(state.reader_id[:READER_GROUP_LENGTH])
        if group is None or group.issuer_public is None:
            raise IsoError(SW_READER_NOT_TRUSTED, "no reader-system issuer key for this "
                                                  "reader group")
        try:
            certificate = ReaderCertificate.decode(data)
            certificate.verify(load_point(group.issuer_public))
        except CertificateError as exc:
            raise IsoError(SW_BAD_CERTIFICATE, f"reader certificate: {exc}") from None
        return certificate.public_key

    def _auth1(self, data: bytes) -> bytes:
        state = self._auth0
        if self.phase not in (Phase.AUTH0_DONE, Phase.FAST_DONE) or state is None:
            raise IsoError(SW_SEQUENCE, "AUTH1 needs a preceding AUTH0 in this selection")
        fields = _fields(data, _AUTH1_FIELDS, "AUTH1", ignore_unknown=AUTH1_IGNORES_UNKNOWN_TAGS)
        _require(fields, (TAG_COMMAND_PARAMETERS, TAG_SIGNATURE), "AUTH1")
        parameters = fields[TAG_COMMAND_PARAMETERS][0]
        if parameters & ~AUTH1_WANTS_PUBLIC_KEY:
            raise IsoError(SW_BAD_DATA, f"AUTH1: command parameters {parameters:02X} has RFU bits")
        if TAG_CERTIFICATE in fields:
            state.reader_public = self._certified_key(state, fields[TAG_CERTIFICATE])
        reader_public = state.reader_public
        if reader_public is None:
            group = self.credential.group(state.reader_id[:READER_GROUP_LENGTH])
            reader_public = group.reader_public if group is not None else None
        if reader_public is None:
            self._close()
            raise IsoError(SW_READER_NOT_TRUSTED, "unknown reader group and no certificate")
        endpoint_ephemeral = point_of(state.ephemeral_key)
        signed = authentication_data(state.reader_id, endpoint_ephemeral, state.reader_ephemeral,
                                     state.transaction_id, READER_CONTEXT)
        if not verify_raw(load_point(reader_public), signed, fields[TAG_SIGNATURE]):
            self._close()
            raise IsoError(SW_BAD_SIGNATURE, "reader signature does not verify")
        kdh = derive_kdh(state.ephemeral_key, state.reader_ephemeral, state.transaction_id)
        inputs = state.inputs(reader_public)
        keys = derive_standard(kdh, inputs)
        endpoint_public = self.credential.endpoint_public
        # Persist first: once the reader has our answer it will try the fast flow next time.
        self.credential.remember(state.reader_id, reader_public,
                                 derive_persistent(kdh, inputs, endpoint_public))
        endpoint_signature = sign_raw(self.credential.endpoint_key, authentication_data(
            state.reader_id, endpoint_ephemeral, state.reader_ephemeral, state.transaction_id,
            ENDPOINT_CONTEXT))
        identity = (tlv.encode(TAG_ENDPOINT_PUBLIC_KEY, endpoint_public)
                    if parameters & AUTH1_WANTS_PUBLIC_KEY
                    else tlv.encode(TAG_KEY_SLOT, key_slot(endpoint_public)))
        credential_ts, revocation_ts = self.credential.timestamps
        plaintext = b"".join((identity, tlv.encode(TAG_SIGNATURE, endpoint_signature),
                              tlv.encode(TAG_SIGNALING_BITMAP, self.signaling_bitmap()),
                              tlv.encode(TAG_CREDENTIAL_TIMESTAMP, credential_ts),
                              tlv.encode(TAG_REVOCATION_TIMESTAMP, revocation_ts)))
        self.channel = GcmChannel(keys.sk_reader, keys.sk_device, device=True)
        assert keys.step_up_reader is not None and keys.step_up_device is not None
        self.step_up = StepUpKeys(keys.step_up_reader, keys.step_up_device)
        self.phase = Phase.SECURE
        return self.channel.seal(plaintext)

    # -- EXCHANGE and CONTROL FLOW -----------------------------------------------------------------

    def _exchange(self, data: bytes) -> bytes:
        channel = self.channel
        if self.phase not in (Phase.FAST_DONE, Phase.SECURE) or channel is None:
            raise IsoError(SW_SEQUENCE, "EXCHANGE needs a finished AUTH0 (fast) or AUTH1")
        if len(data) < GCM_TAG_LENGTH:
            raise IsoError(SW.WRONG_LENGTH, "EXCHANGE data is shorter than a GCM tag")
        step_up = self.step_up_channel
        if (EXCHANGE_AFTER_STEP_UP_TRIES_STEP_UP_KEYS and step_up is not None
                and not step_up.exhausted):
            # After step-up, public readers disagree on the keys (assumptions.py): both are
            # accepted; the answer goes under the keys the command came under.
            plaintext = step_up.try_open(data)
            if plaintext is not None:
                return self._answer_exchange(step_up, plaintext)
        if channel.exhausted:
            self._close()
            raise IsoError(SW_COUNTER_EXHAUSTED, "secure-channel counters exhausted")
        try:
            plaintext = channel.open(data)
        except DecryptionFailed:
            # The counter has advanced on both sides; the channel stays usable (the tool's
            # NFC_UD_NEG_EXCHANGE_WITH_CHAINING_NOT_COMPLETED reads the mailbox right after).
            raise IsoError(SW_DECRYPT_FAILED, "EXCHANGE does not decrypt") from None
        return self._answer_exchange(channel, plaintext)

    def _answer_exchange(self, channel: GcmChannel, plaintext: bytes) -> bytes:
        request = parse_exchange(plaintext)
        if request.reader_status is not None:
            self.reader_status = request.reader_status
        outcome = apply_operations(self.credential.mailbox, request.operations,
                                   writable=self.credential.mailbox_writable)
        if outcome.mailbox is not None:
            self.credential.write_mailbox(outcome.mailbox)
        return channel.seal(outcome.response)

    def _control_flow(self, data: bytes) -> bytes:
        """CONTROL FLOW (S1 = 00: finished with failure, S2 = reason): ends the transaction."""
        fields = _fields(data, _CONTROL_FLOW_FIELDS, "CONTROL FLOW")
        _require(fields, (TAG_S1, TAG_S2), "CONTROL FLOW")
        self._close()
        return b""

    def _close(self) -> None:
        self.phase = Phase.CLOSED
        self.channel = None
        self.step_up_channel = None
        self._auth0 = None


class StepUpSession:
    """One selection of the step-up application.

    ENVELOPE carries a DeviceRequest under the step-up keys the expedited
    AUTH1 of the same tap derived. EXCHANGE and CONTROL FLOW keep working on
    the expedited session's secure channel (the certification tool's
    NFC_UD_STEPUP_* cases send EXCHANGE after the step-up SELECT).
    """

    def __init__(self, credential: Credential, expedited: ExpeditedSession | None) -> None:
        self.credential = credential
        self.expedited = expedited
        keys = expedited.step_up if expedited is not None else None
        self.channel = (GcmChannel(keys.sk_reader, keys.sk_device, device=True)
                        if keys is not None else None)

    def process(self, command: CommandApdu) -> bytes:
        if command.cla & CLA_PROPRIETARY and command.ins in (INS_EXCHANGE, INS_CONTROL_FLOW):
            if self.expedited is None:
                raise IsoError(SW_SEQUENCE, "no expedited transaction in this tap")
            return self.expedited.process(command)
        if command.ins != INS_ENVELOPE:
            raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {command.ins:02X} is not a step-up command")
        if command.cla != CLA_INTERINDUSTRY:
            raise IsoError(SW.CLA_NOT_SUPPORTED, f"ENVELOPE uses CLA 00, not {command.cla:02X}")
        if (command.p1, command.p2) != (0, 0):
            raise IsoError(SW_WRONG_P1P2, "ENVELOPE: P1-P2 must be 0000")
        if self.channel is None:
            raise IsoError(SW_NO_STEP_UP_SESSION, "no step-up keys: run the expedited standard "
                                                  "transaction (AUTH1) in this tap first")
        ciphertext = _session_data(command.data)
        try:
            request = self.channel.open(ciphertext)
        except DecryptionFailed:
            raise IsoError(SW_DECRYPT_FAILED, "ENVELOPE does not decrypt") from None
        try:
            response = answer_device_request(request, self.credential.documents)
        except StepUpError as exc:
            raise IsoError(SW_BAD_DATA, f"ENVELOPE: {exc}") from None
        wrapped = cbor.dumps({"data": self.channel.seal(response)})
        if self.expedited is not None:
            self.expedited.step_up_channel = self.channel
        return tlv.encode(TAG_ENVELOPE_MESSAGE, wrapped)


def _session_data(data: bytes) -> bytes:
    try:
        objects = tlv.parse(data)
    except tlv.TlvError as exc:
        raise IsoError(SW_BAD_DATA, f"ENVELOPE: {exc.message}") from None
    if len(objects) != 1 or objects[0].tag != TAG_ENVELOPE_MESSAGE:
        raise IsoError(SW_BAD_DATA, "ENVELOPE carries one tag 53 (SessionData)")
    try:
        session = cbor.loads(objects[0].value)
    except cbor.CborError as exc:
        raise IsoError(SW_BAD_DATA, f"ENVELOPE: SessionData is not CBOR: {exc}") from None
    if not isinstance(session, dict) or not isinstance(session.get("data"), bytes):
        raise IsoError(SW_BAD_DATA, "ENVELOPE: SessionData needs a \"data\" byte string")
    ciphertext: bytes = session["data"]
    if len(ciphertext) < GCM_TAG_LENGTH:
        raise IsoError(SW.WRONG_LENGTH, "ENVELOPE: data is shorter than a GCM tag")
    return ciphertext

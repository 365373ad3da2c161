"""The reader side: an Aliro door reader over any hcekit terminal (loopback or PC/SC).

:class:`AliroReader` runs SELECT, AUTH0 (fast or standard), LOAD CERT, AUTH1,
EXCHANGE and the step-up ENVELOPE; it keeps a Kpersistent cache per
credential public key as a real reader does. The ``aliro-reader`` terminal
script (and ``hcekit aliro reader``) taps three times — fast, standard
without a certificate, standard with a certificate — then reads the mailbox
with EXCHANGE, and prints the access decision.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import SW, CommandApdu, tlv
from hcekit.terminal import ScriptContext, Terminal, TerminalScript
from hcekit.terminal.terminal import TerminalError

from . import cbor
from .assumptions import ATOMIC_SESSION_TAG, EXCHANGE_OK, MAILBOX_CONTAINER_TAGS
from .certificate import ReaderCertificate
from .crypto import (
    DecryptionFailed,
    GcmChannel,
    KdfInputs,
    authentication_data,
    cryptogram_open,
    derive_fast,
    derive_kdh,
    derive_persistent,
    derive_standard,
    generate_key,
    load_point,
    point_of,
    sign_raw,
    verify_raw,
)
from .protocol import (
    ACCESS_DOCUMENT_TYPE,
    AUTH1_WANTS_PUBLIC_KEY,
    BIT_ACCESS_DOCUMENT,
    CLA_PROPRIETARY,
    ENDPOINT_CONTEXT,
    EXPEDITED_AID,
    FLOW_FAST,
    INS_AUTH0,
    INS_AUTH1,
    INS_ENVELOPE,
    INS_EXCHANGE,
    INS_LOAD_CERT,
    POLICY_USER_DEVICE,
    READER_CONTEXT,
    STEP_UP_AID,
    TAG_AUTH0_RESPONSE_VENDOR,
    TAG_AUTH_POLICY,
    TAG_CERTIFICATE,
    TAG_COMMAND_PARAMETERS,
    TAG_CRYPTOGRAM,
    TAG_ENDPOINT_EPHEMERAL,
    TAG_ENDPOINT_PUBLIC_KEY,
    TAG_ENVELOPE_MESSAGE,
    TAG_FCI,
    TAG_PROPRIETARY,
    TAG_READ,
    TAG_READER_EPHEMERAL,
    TAG_READER_ID,
    TAG_READER_STATUS,
    TAG_SIGNALING_BITMAP,
    TAG_SIGNATURE,
    TAG_TRANSACTION_ID,
    TAG_VERSION,
    TAG_VERSIONS,
    TAG_WRITE,
)
from .stepup import DEFAULT_SCOPE
from .testkeys import TEST_GROUP_ID, TEST_SUB_GROUP_ID, test_issuer_key, test_reader_key

__all__ = ["AliroReader", "ReaderIdentity", "Transaction", "ReaderFailed", "SCRIPTS",
           "reader_script", "make_reader_certificate"]

MAX_SHORT = 255
READER_STATE_UNSECURED = 0x0101


class ReaderFailed(TerminalError):
    """The credential did not complete the transaction (message says where)."""


def make_reader_certificate(issuer: ec.EllipticCurvePrivateKey, reader_public: bytes,
                            subject: bytes = b"hcekit reader") -> bytes:
    """A compressed reader certificate for *reader_public*, signed by *issuer*."""
    unsigned = ReaderCertificate(b"\x01", b"issuer", b"200101000000Z", b"490101000000Z",
                                 subject, reader_public, b"")
    signature = issuer.sign(unsigned.tbs(point_of(issuer)), ec.ECDSA(hashes.SHA256()))
    return ReaderCertificate(unsigned.serial, unsigned.issuer, unsigned.not_before,
                             unsigned.not_after, unsigned.subject, reader_public,
                             signature).encode()


@dataclass
class ReaderIdentity:
    """Matter's reader configuration: group identifier, sub-group, signing key (+ certificate)."""

    group_id: bytes
    sub_group_id: bytes
    key: ec.EllipticCurvePrivateKey
    certificate: bytes | None = None

    @property
    def reader_id(self) -> bytes:
        return self.group_id + self.sub_group_id

    @classmethod
    def test(cls) -> ReaderIdentity:
        key = test_reader_key()
        return cls(TEST_GROUP_ID, TEST_SUB_GROUP_ID, key,
                   make_reader_certificate(test_issuer_key(), point_of(key)))


@dataclass
class Transaction:
    """What one tap established."""

    flow: str                      # "fast" or "standard"
    endpoint_public: bytes
    signaling_bitmap: int
    channel: GcmChannel
    step_up: tuple[bytes, bytes] | None = None
    #: The step-up channel once :meth:`AliroReader.step_up` used it in this tap.
    step_up_channel: GcmChannel | None = None


@dataclass
class AliroReader:
    terminal: Terminal
    identity: ReaderIdentity
    #: endpoint public key → Kpersistent, as a reader's fast cache.
    cache: dict[bytes, bytes] = field(default_factory=dict)
    policy: int = POLICY_USER_DEVICE

    def _send(self, cla: int, ins: int, data: bytes, what: str) -> bytes:
        chunks = [data[i:i + MAX_SHORT] for i in range(0, len(data), MAX_SHORT)] or [b""]
        with self.terminal.sensitive():  # keys, cryptograms, documents: redacted as on the card
            for chunk in chunks[:-1]:
                response = self.terminal.transmit(CommandApdu(cla | 0x10, ins, 0, 0, chunk,
                                                              None))
                if response.sw != SW.NO_ERROR:
                    raise ReaderFailed(f"{what}: chained part answered {response.sw:04X}")
            response = self.terminal.transmit(CommandApdu(cla, ins, 0, 0, chunks[-1], 256))
        if response.sw != SW.NO_ERROR:
            raise ReaderFailed(f"{what}: credential answered {response.sw:04X}")
        return response.data

    def select(self) -> bytes:
        """SELECT the expedited AID; return the A5 proprietary TLV (it enters the salt)."""
        response = self.terminal.select(EXPEDITED_AID)
        if response.sw != SW.NO_ERROR:
            raise ReaderFailed(f"SELECT: {response.sw:04X} (no Aliro credential)")
        fci = tlv.parse(response.data)
        if len(fci) != 1 or fci[0].tag != TAG_FCI:
            raise ReaderFailed("SELECT: answer is not an FCI")
        proprietary = tlv.find(fci[0].value, TAG_PROPRIETARY)
        if proprietary is None:
            raise ReaderFailed("SELECT: FCI without proprietary template A5")
        versions = tlv.find(proprietary, TAG_VERSIONS) or b""
        if b"\x01\x00" not in [versions[i:i + 2] for i in range(0, len(versions), 2)]:
            raise ReaderFailed("SELECT: credential does not offer protocol 1.0")
        return tlv.encode(TAG_PROPRIETARY, proprietary)

    def transact(self, *, fast: bool = True, certificate: str = "none") -> Transaction:
        """One tap: SELECT, AUTH0, then AUTH1 unless the fast cryptogram verified.

        *certificate*: ``none`` (the credential knows our key), ``load`` (LOAD CERT) or
        ``auth1`` (certificate inside AUTH1, tag 90).
        """
        proprietary = self.select()
        ephemeral = generate_key()
        transaction_id = os.urandom(16)
        parameters = FLOW_FAST if fast else 0
        auth0 = self._send(CLA_PROPRIETARY, INS_AUTH0, b"".join((
            tlv.encode(TAG_COMMAND_PARAMETERS, bytes((parameters,))),
            tlv.encode(TAG_AUTH_POLICY, bytes((self.policy,))),
            tlv.encode(TAG_VERSION, b"\x01\x00"),
            tlv.encode(TAG_READER_EPHEMERAL, point_of(ephemeral)),
            tlv.encode(TAG_TRANSACTION_ID, transaction_id),
            tlv.encode(TAG_READER_ID, self.identity.reader_id))), "AUTH0")
        endpoint_ephemeral = tlv.find(auth0, TAG_ENDPOINT_EPHEMERAL)
        if endpoint_ephemeral is None:
            raise ReaderFailed("AUTH0: no endpoint ephemeral key")
        vendor = tlv.find(auth0, TAG_AUTH0_RESPONSE_VENDOR)
        inputs = KdfInputs(point_of(self.identity.key), self.identity.reader_id, 0x0100,
                           point_of(ephemeral), transaction_id, parameters, self.policy,
                           proprietary, endpoint_ephemeral,
                           tlv.encode(TAG_AUTH0_RESPONSE_VENDOR, vendor) if vendor else b"")
        cryptogram = tlv.find(auth0, TAG_CRYPTOGRAM)
        if fast and cryptogram is not None:
            for cached_public, kpersistent in self.cache.items():
                fast_keys = derive_fast(kpersistent, inputs, cached_public)
                try:
                    opened = cryptogram_open(fast_keys.cryptogram_sk, cryptogram)
                except DecryptionFailed:
                    continue
                bits = int.from_bytes(tlv.find(opened, TAG_SIGNALING_BITMAP) or b"\0\0", "big")
                return Transaction("fast", cached_public, bits, GcmChannel(
                    fast_keys.expedited.sk_reader, fast_keys.expedited.sk_device, device=False))
        if certificate == "load":
            if self.identity.certificate is None:
                raise ReaderFailed("no reader certificate configured")
            self._send(CLA_PROPRIETARY, INS_LOAD_CERT, self.identity.certificate, "LOAD CERT")
        signed = authentication_data(self.identity.reader_id, endpoint_ephemeral,
                                     point_of(ephemeral), transaction_id, READER_CONTEXT)
        fields = [tlv.encode(TAG_COMMAND_PARAMETERS, bytes((AUTH1_WANTS_PUBLIC_KEY,))),
                  tlv.encode(TAG_SIGNATURE, sign_raw(self.identity.key, signed))]
        if certificate == "auth1":
            if self.identity.certificate is None:
                raise ReaderFailed("no reader certificate configured")
            fields.append(tlv.encode(TAG_CERTIFICATE, self.identity.certificate))
        encrypted = self._send(CLA_PROPRIETARY, INS_AUTH1, b"".join(fields), "AUTH1")
        kdh = derive_kdh(ephemeral, endpoint_ephemeral, transaction_id)
        keys = derive_standard(kdh, inputs)
        channel = GcmChannel(keys.sk_reader, keys.sk_device, device=False)
        try:
            plain = channel.open(encrypted)
        except DecryptionFailed:
            raise ReaderFailed("AUTH1: answer does not decrypt") from None
        endpoint_public = tlv.find(plain, TAG_ENDPOINT_PUBLIC_KEY)
        signature = tlv.find(plain, TAG_SIGNATURE)
        if endpoint_public is None or signature is None:
            raise ReaderFailed("AUTH1: answer lacks the endpoint key or signature")
        expected = authentication_data(self.identity.reader_id, endpoint_ephemeral,
                                       point_of(ephemeral), transaction_id, ENDPOINT_CONTEXT)
        if not verify_raw(load_point(endpoint_public), expected, signature):
            raise ReaderFailed("AUTH1: endpoint signature does not verify")
        self.cache[endpoint_public] = derive_persistent(kdh, inputs, endpoint_public)
        bitmap = int.from_bytes(tlv.find(plain, TAG_SIGNALING_BITMAP) or b"\0\0", "big")
        assert keys.step_up_reader is not None and keys.step_up_device is not None
        return Transaction("standard", endpoint_public, bitmap, channel,
                           (keys.step_up_reader, keys.step_up_device))

    def exchange(self, transaction: Transaction, *, reads: Sequence[tuple[int, int]] = (),
                 writes: Sequence[tuple[int, bytes]] = (),
                 status: int | None = READER_STATE_UNSECURED,
                 keys: str = "expedited") -> tuple[list[bytes], bytes]:
        """One EXCHANGE: mailbox reads/writes and the reader status; (read data, status).

        *keys*: ``expedited`` (the AUTH0/AUTH1 channel) or, after :meth:`step_up`,
        ``step-up`` (the step-up channel), as readers differ (docs/aliro.md).
        """
        channel = transaction.channel if keys == "expedited" else transaction.step_up_channel
        if channel is None:
            raise ReaderFailed(f"EXCHANGE under the {keys} keys: no such channel in this tap")
        ops = [tlv.encode(ATOMIC_SESSION_TAG, b"\x00")]
        ops += [tlv.encode(TAG_READ, o.to_bytes(2, "big") + n.to_bytes(2, "big")) for o, n in reads]
        ops += [tlv.encode(TAG_WRITE, o.to_bytes(2, "big") + d) for o, d in writes]
        payload = b""
        if reads or writes:
            payload += tlv.encode(MAILBOX_CONTAINER_TAGS[0], b"".join(ops))
        if status is not None:
            payload += tlv.encode(TAG_READER_STATUS, status.to_bytes(2, "big"))
        answer = self._send(CLA_PROPRIETARY, INS_EXCHANGE, channel.seal(payload), "EXCHANGE")
        try:
            plain = channel.open(answer)
        except DecryptionFailed:
            raise ReaderFailed("EXCHANGE: answer does not decrypt") from None
        body, code = plain[:-4], plain[-4:]
        data, i = [], 0
        while i < len(body):
            n = int.from_bytes(body[i:i + 2], "big")
            data.append(body[i + 2:i + 2 + n])
            i += 2 + n
        return data, code

    def step_up(self, transaction: Transaction, scope: str = DEFAULT_SCOPE) -> dict[str, object]:
        """SELECT the step-up AID and fetch the Access Document (the same tap as *transaction*)."""
        if transaction.step_up is None:
            raise ReaderFailed("step-up needs a standard transaction in this tap")
        if self.terminal.select(STEP_UP_AID).sw != SW.NO_ERROR:
            raise ReaderFailed("step-up SELECT refused")
        channel = transaction.step_up_channel = GcmChannel(*transaction.step_up, device=False)
        items = cbor.dumps({"1": {ACCESS_DOCUMENT_TYPE: {scope: True}}, "5": ACCESS_DOCUMENT_TYPE})
        request = cbor.dumps({"1": "1.0", "2": [{"1": cbor.Tagged(24, items)}]})
        envelope = tlv.encode(TAG_ENVELOPE_MESSAGE, cbor.dumps({"data": channel.seal(request)}))
        answer = self._send(0x00, INS_ENVELOPE, envelope, "ENVELOPE")
        message = tlv.find(answer, TAG_ENVELOPE_MESSAGE)
        if message is None:
            raise ReaderFailed("ENVELOPE: answer lacks tag 53")
        session = cbor.loads(message)
        response = cbor.loads(channel.open(session["data"]))
        if not isinstance(response, dict):
            raise ReaderFailed("ENVELOPE: DeviceResponse is not a map")
        return response


def _run(ctx: ScriptContext) -> int:
    identity = ctx.extras.get("identity") or ReaderIdentity.test()
    reader = AliroReader(ctx.terminal, identity, ctx.extras.setdefault("cache", {}))
    step_up = ctx.choice("step_up", ("yes", "no"), "yes") == "yes"
    try:
        for label, fast, certificate in (("fast", True, "none"),
                                         ("standard, no certificate", False, "none"),
                                         ("standard, certificate", False, "load"),
                                         ("fast again", True, "none"),
                                         ("fast after a lost cache, certificate", True, "load"),
                                         ("fast again", True, "none")):
            if label.startswith("fast after a lost cache"):
                reader.cache.clear()  # a replaced reader: the credential's Kpersistent is stale
            with ctx.terminal.tap():
                txn = reader.transact(fast=fast, certificate=certificate)
                data, code = reader.exchange(txn, reads=[(0, 16)], status=None)
                ctx.echo(f"{label}: {txn.flow} transaction, credential "
                         f"{txn.endpoint_public[1:9].hex().upper()}…, mailbox read "
                         f"{len(data[0]) if data else 0} bytes, status {code.hex().upper()}")
                if code != EXCHANGE_OK:
                    raise ReaderFailed(f"EXCHANGE status {code.hex().upper()}")
                if step_up and txn.step_up is not None and txn.signaling_bitmap & BIT_ACCESS_DOCUMENT:
                    response = reader.step_up(txn)
                    documents = response.get("2")
                    ctx.echo(f"  step-up: {len(documents) if isinstance(documents, list) else 0} "
                             "access document(s)")
                    _, done = reader.exchange(txn, keys="step-up")  # the reader's final status
                    ctx.echo(f"  step-up EXCHANGE: status {done.hex().upper()}")
                    step_up = False
                else:
                    _, done = reader.exchange(txn)  # the reader's final status
                if done != EXCHANGE_OK:
                    raise ReaderFailed(f"final EXCHANGE status {done.hex().upper()}")
    except (ReaderFailed, TerminalError) as exc:
        ctx.echo(f"ACCESS DENIED: {exc}")
        return 1
    ctx.echo("ACCESS GRANTED")
    return 0


reader_script = TerminalScript(
    "aliro-reader", "Aliro door reader: fast, standard (with and without certificate), "
    "EXCHANGE, step-up; prints the access decision", _run, demo=True,
    options={"step_up": "yes (default) or no: fetch the Access Document once"})
SCRIPTS = [reader_script]

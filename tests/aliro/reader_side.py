"""An Aliro reader written for the tests from the certification cases, not from the card.

It imports nothing from ``hcekit_aliro``: the TLV helper, the key schedule and
the secure channel below follow the CSA certification tool's reader
(aliro-actuator ``access_protocol``: apdu.py, encryption.py, reader.py) and
Proxmark3's ``cmdhfaliro.c``, written again here. It speaks through any hcekit
:class:`~hcekit.terminal.Terminal` (loopback or PC/SC) and returns raw
status words so a case can assert the card's exact behaviour.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hcekit import CommandApdu, ResponseApdu
from hcekit.terminal import Terminal

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "aliro_cert_tool.json").read_text())
AID = bytes.fromhex(VECTORS["expedited_aid"])
STEP_UP = bytes.fromhex(VECTORS["step_up_aid"])
OK = 0x9000


# -- a tiny BER-TLV (one- and two-byte tags, definite lengths) --------------------------------

def enc(tag: int, value: bytes) -> bytes:
    t = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    length = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else
                                          bytes([0x82]) + n.to_bytes(2, "big"))
    return t + length + value


def dec(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[i]
            i += 1
        n = data[i]
        i += 1
        if n & 0x80:
            size = n & 0x7F
            n = int.from_bytes(data[i:i + size], "big")
            i += size
        assert i + n <= len(data), "TLV overruns its data"
        out.append((tag, data[i:i + n]))
        i += n
    return out


def get(data: bytes, tag: int) -> bytes | None:
    return next((v for t, v in dec(data) if t == tag), None)


# -- crypto, from the readers' descriptions --------------------------------------------------------

def pub(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    k = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return k.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(point: bytes, data: bytes, sig: bytes) -> bool:
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    try:
        key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                        int.from_bytes(sig[32:], "big")),
                   data, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return False
    return True


def hkdf(ikm: bytes, salt: bytes, info: bytes, n: int) -> bytes:
    return HKDF(hashes.SHA256(), n, salt, info).derive(ikm)


class Channel:
    """AES-GCM, IV = 8-byte mode (reader 0 / device 1) + 4-byte counter from 1."""

    def __init__(self, sk_reader: bytes, sk_device: bytes) -> None:
        self.out, self.inn = AESGCM(sk_reader), AESGCM(sk_device)
        self.n_out = self.n_in = 1

    def seal(self, data: bytes) -> bytes:
        iv = bytes(8) + self.n_out.to_bytes(4, "big")
        self.n_out += 1
        return self.out.encrypt(iv, data, None)

    def open(self, data: bytes) -> bytes:
        iv = bytes(7) + b"\x01" + self.n_in.to_bytes(4, "big")
        self.n_in += 1
        return self.inn.decrypt(iv, data, None)


@dataclass
class Reader:
    terminal: Terminal
    group: bytes
    sub_group: bytes
    key: ec.EllipticCurvePrivateKey
    certificate: bytes | None = None
    #: endpoint public key -> Kpersistent
    cache: dict[bytes, bytes] = field(default_factory=dict)
    #: use the certification tool's fixed ephemeral key and transaction identifier
    tool_vectors: bool = True
    max_data: int = 255
    # per-transaction state
    fci: bytes = b""
    eph: ec.EllipticCurvePrivateKey | None = None
    tid: bytes = b""
    flags: bytes = b""
    endpoint_eph: bytes = b""
    channel: Channel | None = None
    step_up_keys: tuple[bytes, bytes] | None = None
    endpoint_public: bytes = b""
    bitmap: int = 0
    kdh: bytes = b""

    @property
    def rid(self) -> bytes:
        return self.group + self.sub_group

    def send(self, cla: int, ins: int, data: bytes, p1: int = 0, p2: int = 0,
             le: int | None = 256, chain_every: int | None = None) -> ResponseApdu:
        step = chain_every or self.max_data
        parts = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        for part in parts[:-1]:
            r = self.terminal.transmit(CommandApdu(cla | 0x10, ins, p1, p2, part, None))
            if r.sw != OK:
                return r
        return self.terminal.transmit(CommandApdu(cla, ins, p1, p2, parts[-1], le))

    # -- SELECT --------------------------------------------------------------------------------

    def select(self) -> ResponseApdu:
        r = self.terminal.select(AID)
        if r.sw == OK:
            fci = dict(dec(r.data))[0x6F]
            self.fci = enc(0xA5, dict(dec(fci))[0xA5])
        return r

    # -- AUTH0 ---------------------------------------------------------------------------------

    def auth0_data(self, fast: bool, policy: int = 1, version: bytes = b"\x01\x00",
                   extra: bytes = b"") -> bytes:
        """AUTH0's data field; *extra* is appended (a vendor extension B1, or a stray tag)."""
        if self.tool_vectors and self.eph is None:
            self.eph = ec.derive_private_key(int(VECTORS["reader_ephemeral_private"], 16),
                                             ec.SECP256R1())
            self.tid = bytes.fromhex(VECTORS["transaction_identifier"])
        elif self.eph is None:
            self.eph = ec.generate_private_key(ec.SECP256R1())
            self.tid = os.urandom(16)
        self.flags = bytes([1 if fast else 0, policy])
        return (enc(0x41, self.flags[:1]) + enc(0x42, self.flags[1:]) + enc(0x5C, version)
                + enc(0x87, pub(self.eph)) + enc(0x4C, self.tid) + enc(0x4D, self.rid) + extra)

    def auth0(self, fast: bool = False, **kwargs: object) -> ResponseApdu:
        r = self.send(0x80, 0x80, self.auth0_data(fast, **kwargs))  # type: ignore[arg-type]
        if r.sw == OK:
            self.endpoint_eph = get(r.data, 0x86) or b""
        return r

    def salt(self, word: bytes, endpoint_public: bytes | None) -> bytes:
        s = (pub(self.key)[1:33] + word + self.rid + b"\x5e\x5c\x02" + b"\x01\x00"
             + pub(self.eph)[1:33] + self.tid + self.flags + self.fci)  # type: ignore[arg-type]
        return s + (endpoint_public[1:33] if endpoint_public else b"")

    def open_cryptogram(self, cryptogram: bytes) -> bytes | None:
        """Try every cached credential (as the tool's reader does); the plaintext or None."""
        info = self.endpoint_eph[1:33]
        for endpoint_public, kp in self.cache.items():
            m = hkdf(kp, self.salt(b"VolatileFast", endpoint_public), info, 160)
            try:
                plain = AESGCM(m[:32]).decrypt(bytes(12), cryptogram, None)
            except InvalidTag:
                continue
            self.channel = Channel(m[32:64], m[64:96])
            self.endpoint_public = endpoint_public
            return plain
        return None

    # -- LOAD CERT / AUTH1 --------------------------------------------------------------------------

    def signed_data(self, usage: bytes) -> bytes:
        return (enc(0x4D, self.rid) + enc(0x86, self.endpoint_eph[1:33])
                + enc(0x87, pub(self.eph)[1:33]) + enc(0x4C, self.tid)  # type: ignore[arg-type]
                + enc(0x93, usage))

    def load_cert(self, cert: bytes | None = None, chain_every: int | None = None) -> ResponseApdu:
        return self.send(0x80, 0xD1, cert if cert is not None else self.certificate or b"",
                         chain_every=chain_every)

    def auth1_data(self, want_public_key: bool = True, with_cert: bool = False,
                   signature: bytes | None = None) -> bytes:
        sig = signature or sign(self.key, self.signed_data(bytes.fromhex(VECTORS["reader_usage"])))
        data = enc(0x41, bytes([1 if want_public_key else 0])) + enc(0x9E, sig)
        if with_cert:
            assert self.certificate is not None
            data += enc(0x90, self.certificate)
        return data

    def auth1(self, want_public_key: bool = True, with_cert: bool = False,
              chain_every: int | None = None, data: bytes | None = None) -> tuple[ResponseApdu, bytes]:
        r = self.send(0x80, 0x81, data or self.auth1_data(want_public_key, with_cert),
                      chain_every=chain_every)
        if r.sw != OK:
            return r, b""
        z = self.eph.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(  # type: ignore[union-attr]
            ec.SECP256R1(), self.endpoint_eph))
        self.kdh = X963KDF(hashes.SHA256(), 32, self.tid).derive(z)
        m = hkdf(self.kdh, self.salt(b"Volatile****", None), self.endpoint_eph[1:33], 160)
        self.channel = Channel(m[:32], m[32:64])
        self.step_up_keys = (hkdf(m[64:96], bytes(32), b"SKReader", 32),
                             hkdf(m[64:96], bytes(32), b"SKDevice", 32))
        plain = self.channel.open(r.data)
        fields = dict(dec(plain))
        self.bitmap = int.from_bytes(fields[0x5E], "big")
        if 0x5A in fields:
            self.endpoint_public = fields[0x5A]
            assert verify(self.endpoint_public,
                          self.signed_data(bytes.fromhex(VECTORS["endpoint_usage"])), fields[0x9E]), \
                "endpoint signature does not verify"
            self.cache[self.endpoint_public] = hkdf(
                self.kdh, self.salt(b"Persistent**", self.endpoint_public), self.endpoint_eph[1:33], 32)
        return r, plain

    # -- EXCHANGE -------------------------------------------------------------------------------------

    def exchange_plain(self, plain: bytes, *, extended: bool = False) -> tuple[ResponseApdu, bytes | None]:
        """EXCHANGE; *extended*: one extended-length APDU (Le 65536) instead of short + chaining."""
        assert self.channel is not None
        sealed = self.channel.seal(plain)
        if extended:
            r = self.terminal.transmit(CommandApdu(0x80, 0xC9, 0, 0, sealed, 65536, extended=True))
        else:
            r = self.send(0x80, 0xC9, sealed)
        return r, (self.channel.open(r.data) if r.sw == OK else None)

    @staticmethod
    def mailbox(*ops: bytes, atomic: bool = False) -> bytes:
        return enc(0xBA, enc(0x8C, bytes([atomic])) + b"".join(ops))

    # -- step-up --------------------------------------------------------------------------------------
    def envelope(self, request: bytes) -> tuple[ResponseApdu, bytes | None]:
        assert self.step_up_keys is not None
        ch = Channel(*self.step_up_keys)
        body = ch.seal(request)
        session = b"\xa1\x64data" + (b"\x59" + len(body).to_bytes(2, "big") if len(body) > 255
                                     else b"\x58" + bytes([len(body)])) + body
        r = self.send(0x00, 0xC3, enc(0x53, session))
        if r.sw != OK:
            return r, None
        message = get(r.data, 0x53)
        assert message is not None and message[:6] == b"\xa1\x64data"
        head = message[6]
        offset = {0x58: 8, 0x59: 9}[head]
        return r, ch.open(message[offset:])

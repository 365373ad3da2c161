"""Aliro test rigs: a personalised credential served over PC/SC (or loopback) and a reader.

Reader keys, the reader-system issuer and certificates are made here with
``cryptography`` (X.509 via its CertificateBuilder, compressed by
:func:`compress`), never with the plugin's own helpers.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hcekit.store import MemoryStore, Store
from hcekit.testing.loopback import loopback_rig
from hcekit_aliro import AliroPlugin, Personalization, TrustedGroup

from .reader_side import Reader, enc, pub

GROUP = hashlib.sha256(b"tests/aliro group").digest()[:16]
SUB_GROUP = hashlib.sha256(b"tests/aliro reader").digest()[:16]


def make_certificate(issuer: ec.EllipticCurvePrivateKey, subject_key: ec.EllipticCurvePublicKey,
                     *, serial: int = 0x1234, subject: str = "door 1") -> x509.Certificate:
    """A reader certificate as the tool's Certificate.generate makes it (X.509 v3)."""
    key_id = hashlib.sha1(pub(issuer)).digest()
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reader system")]))
            .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
            .not_valid_after(datetime.datetime(2049, 1, 1, tzinfo=datetime.UTC))
            .serial_number(serial)
            .public_key(subject_key)
            .add_extension(x509.AuthorityKeyIdentifier(key_id, None, None), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(issuer, hashes.SHA256()))


def compress(cert: x509.Certificate) -> bytes:
    """The tool's compressed profile 0000 of an X.509 certificate (every field explicit)."""
    def cn(name: x509.Name) -> bytes:
        return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value).encode()

    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8, "big")
    fields = (enc(0x80, serial) + enc(0x81, cn(cert.issuer))
              + enc(0x82, cert.not_valid_before_utc.strftime("%y%m%d%H%M%SZ").encode())
              + enc(0x83, cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ").encode())
              + enc(0x84, cn(cert.subject))
              + enc(0x85, b"\x00" + pub(cert.public_key()))  # type: ignore[arg-type]
              + enc(0x86, b"\x00" + cert.signature))
    return enc(0x30, enc(0x04, b"\x00\x00") + enc(0x30, fields))


@dataclass
class World:
    """The reader system: reader key, issuer, a certificate, and extra groups."""

    reader_key: ec.EllipticCurvePrivateKey
    issuer: ec.EllipticCurvePrivateKey
    certificate: bytes

    @classmethod
    def new(cls) -> World:
        reader_key = ec.generate_private_key(ec.SECP256R1())
        issuer = ec.generate_private_key(ec.SECP256R1())
        return cls(reader_key, issuer, compress(make_certificate(issuer, reader_key.public_key())))

    def personalization(self, *, reader_key_known: bool = True,
                        mailbox_write: bool = True) -> Personalization:
        groups = [TrustedGroup(GROUP, pub(self.reader_key) if reader_key_known else None,
                               pub(self.issuer))]
        from hcekit_aliro.testkeys import test_credential_issuer_key

        return Personalization(groups=groups, document_issuer=test_credential_issuer_key(),
                               mailbox_write=mailbox_write)

    def reader(self, terminal: object, **kwargs: object) -> Reader:
        return Reader(terminal, GROUP, SUB_GROUP, self.reader_key,  # type: ignore[arg-type]
                      certificate=self.certificate, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world() -> World:
    return World.new()


@dataclass
class Served:
    plugin: AliroPlugin
    terminal: object
    store: Store


CardFactory = Callable[..., Served]


@pytest.fixture
def loopback_card() -> Iterator[CardFactory]:
    rigs = []

    def make(personalization: Personalization, store: Store | None = None, **terminal: object) -> Served:
        plugin = AliroPlugin(personalization)
        store = store or MemoryStore()
        rig = loopback_rig([plugin], store=store)
        for name, value in terminal.items():
            setattr(rig.terminal, name, value)
        rigs.append(rig)
        return Served(plugin, rig.terminal, store)

    yield make
    for rig in rigs:
        rig.close()

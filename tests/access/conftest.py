"""Fixtures for the access badge tests: cards on loopback, badges under chosen CAs."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hcekit.store import MemoryStore, Store
from hcekit.testing import LoopbackRig, loopback_rig
from hcekit_access import AccessPlugin, BadgeRequest, personalize


@dataclass
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def make_ca(name: str = "Example Facilities CA") -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(key, cert)


@pytest.fixture(scope="session")
def facility_ca() -> CertificateAuthority:
    return make_ca()


@pytest.fixture(scope="session")
def rogue_ca() -> CertificateAuthority:
    """Same name as the facility CA, different key: name matching alone must not pass."""
    return make_ca()


BadgeFactory = Callable[..., tuple[LoopbackRig, AccessPlugin]]


@pytest.fixture
def badge_rig() -> Iterator[BadgeFactory]:
    """``badge_rig(request=None, store=None)``: a personalized badge on a loopback card."""
    rigs: list[LoopbackRig] = []

    def make(request: BadgeRequest | None = None,
             store: Store | None = None) -> tuple[LoopbackRig, AccessPlugin]:
        store = store if store is not None else MemoryStore()
        if request is not None:
            personalize(store.namespace("access"), request)
        plugin = AccessPlugin()
        rig = loopback_rig([plugin], store=store)
        rigs.append(rig)
        return rig, plugin

    yield make
    for rig in rigs:
        rig.close()

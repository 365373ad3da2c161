"""Personalization: what lands in the store, issuers, atomicity, and the CLI (key never shown)."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.cli import main
from hcekit.store import MemoryStore, SqliteStore
from hcekit.testing import loopback_rig
from hcekit_access import AccessPlugin, BadgeRequest, Fascn, load_badge, personalize, testca
from hcekit_access.badge import PersonalizationError, certificate_identifiers
from hcekit_access.piv import OID_PIV_CARD_AUTH_EKU

from .conftest import CertificateAuthority


def test_empty_store_self_personalizes_once_under_the_test_ca() -> None:
    store = MemoryStore()
    first = loopback_rig([AccessPlugin()], store=store)
    badge = load_badge(store.namespace("access"))
    assert badge is not None
    badge.certificate.verify_directly_issued_by(testca.ca_certificate())
    first.close()
    plugin = AccessPlugin()
    second = loopback_rig([plugin], store=store)
    assert plugin.badge is not None
    assert plugin.badge.certificate == badge.certificate  # not re-personalized
    second.close()


def test_issuer_ca_signs_a_card_authentication_certificate(facility_ca: CertificateAuthority) -> None:
    store = MemoryStore().namespace("access")
    card_uuid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    badge = personalize(store, BadgeRequest(card_uuid=card_uuid, issuer_key=facility_ca.key,
                                            issuer_cert=facility_ca.cert))
    cert = badge.certificate
    cert.verify_directly_issued_by(facility_ca.cert)
    assert cert.issuer == facility_ca.cert.subject
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier(OID_PIV_CARD_AUTH_EKU) in eku
    assert certificate_identifiers(cert) == {str(card_uuid)}
    assert badge.identifier == str(card_uuid)
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.public_numbers() == badge.private_key.public_key().public_numbers()


def test_fascn_keyed_badge() -> None:
    fascn = Fascn.parse("1234-0001-000042-0-1-0000000042-1-1234-1")
    badge = personalize(MemoryStore().namespace("access"), BadgeRequest(fascn=fascn))
    assert badge.chuid.fascn == fascn.encode()
    assert badge.chuid.uuid is None
    assert badge.identifier == str(fascn)
    assert certificate_identifiers(badge.certificate) == {str(fascn)}


def test_self_signed() -> None:
    badge = personalize(MemoryStore().namespace("access"), BadgeRequest(self_signed=True))
    badge.certificate.verify_directly_issued_by(badge.certificate)


@pytest.mark.parametrize("request_", [
    BadgeRequest(pin="12345"),
    BadgeRequest(pin="12a456"),
    BadgeRequest(not_before=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
                 not_after=datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC)),
])
def test_inconsistent_requests_are_refused(request_: BadgeRequest) -> None:
    with pytest.raises(PersonalizationError):
        personalize(MemoryStore().namespace("access"), request_)


def test_issuer_key_must_match_issuer_cert(facility_ca: CertificateAuthority,
                                           rogue_ca: CertificateAuthority) -> None:
    with pytest.raises(PersonalizationError, match="does not belong"):
        personalize(MemoryStore().namespace("access"),
                    BadgeRequest(issuer_key=rogue_ca.key, issuer_cert=facility_ca.cert))
    with pytest.raises(PersonalizationError, match="both"):
        personalize(MemoryStore().namespace("access"), BadgeRequest(issuer_key=rogue_ca.key))


def test_interrupted_personalization_keeps_the_old_badge(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    backend = SqliteStore(tmp_path / "store.sqlite")
    store = backend.namespace("access")
    old = personalize(store)
    original_set = type(store).set

    def failing_set(self: object, key: str, value: bytes) -> None:
        if key == "chuid":
            raise OSError("power lost")
        original_set(self, key, value)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store), "set", failing_set)
    with pytest.raises(OSError):
        personalize(store)
    monkeypatch.undo()
    kept = load_badge(store)
    assert kept is not None
    assert kept.certificate == old.certificate
    assert kept.chuid == old.chuid
    backend.close()


def test_cli_personalize_and_show_never_print_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        facility_ca: CertificateAuthority) -> None:
    store_path = tmp_path / "store.sqlite"
    key_pem = tmp_path / "ca.key"
    cert_pem = tmp_path / "ca.pem"
    key_pem.write_bytes(facility_ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cert_pem.write_bytes(facility_ca.cert.public_bytes(serialization.Encoding.PEM))
    out_cert = tmp_path / "badge.pem"
    card_uuid = "0d5c3a0e-36f4-4c1e-9d6f-8f3b2f4f0a11"
    assert main(["access", "personalize", "--store", str(store_path), "--issuer-key",
                 str(key_pem), "--issuer-cert", str(cert_pem), "--uuid", card_uuid,
                 "--cert-out", str(out_cert)]) == 0
    assert main(["access", "show", "--store", str(store_path), "--pem"]) == 0
    printed = capsys.readouterr().out
    assert f"card identifier: {card_uuid}" in printed
    assert "PRIVATE KEY" not in printed
    backend = SqliteStore(store_path)
    badge = load_badge(backend.namespace("access"))
    backend.close()
    assert badge is not None
    secret = badge.private_key.private_numbers().private_value
    key_der = badge.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    for form in (f"{secret:x}", f"{secret}", key_der.hex()):
        assert form not in printed.lower()
    assert x509.load_pem_x509_certificate(out_cert.read_bytes()) == badge.certificate
    # a second personalization needs --force (a failure: exit 1, the badge stays)
    assert main(["access", "personalize", "--store", str(store_path)]) == 1
    assert "already holds a badge; --force replaces it" in capsys.readouterr().err
    assert main(["access", "personalize", "--store", str(store_path), "--force"]) == 0
    assert "TEST CA" in capsys.readouterr().out


def test_cli_rejects_half_an_issuer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", "personalize", "--store", str(tmp_path / "s.sqlite"),
                 "--issuer-cert", str(tmp_path / "missing.pem")]) == 2
    assert "--issuer-key and --issuer-cert go together" in capsys.readouterr().err


def test_test_ca_key_matches_its_certificate() -> None:
    public = testca.ca_certificate().public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.public_numbers() == testca.ca_key().public_key().public_numbers()
    testca.ca_certificate().verify_directly_issued_by(testca.ca_certificate())


def test_key_stays_out_of_repr_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    with caplog.at_level("DEBUG"):
        rig = loopback_rig([AccessPlugin()], store=store)
        rig.close()
    badge = load_badge(store.namespace("access"))
    assert badge is not None
    secret = badge.private_key.private_numbers().private_value
    texts = [repr(badge), caplog.text]
    for text in texts:
        assert f"{secret:x}" not in text.lower() and str(secret) not in text
        assert "private_key" not in text
    assert badge.identifier in caplog.text  # what the log does say

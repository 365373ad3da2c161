"""Interop through a real pcscd: OpenSC and yubico-piv-tool read the badge; the door reads it too.

The badge is served by the hcekit vpcd host with the PIV ATR; the clients are
the Debian packages (scripts/install-system-deps.sh), run as subprocesses
against the private pcscd of the ``pcscd`` fixture.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hcekit.store import MemoryStore
from hcekit.testing.pcsc import PcscCard
from hcekit.testing.requirements import missing
from hcekit_access import PIV_ATR, AccessPlugin, BadgeRequest, DoorPolicy, decide, personalize
from hcekit_access.badge import Badge

from .conftest import CertificateAuthority

pytestmark = [pytest.mark.pcsc, pytest.mark.interop]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} is not installed (scripts/install-system-deps.sh installs it)"
        missing(reason)
    return path


@pytest.fixture
def served_badge(pcsc_card: Callable[..., PcscCard],
                 facility_ca: CertificateAuthority) -> tuple[PcscCard, Badge]:
    store = MemoryStore()
    badge = personalize(store.namespace("access"),
                        BadgeRequest(issuer_key=facility_ca.key, issuer_cert=facility_ca.cert))
    served = pcsc_card([AccessPlugin()], store=store, atr=PIV_ATR, connect=False)
    assert served.atr == PIV_ATR
    return served, badge


def test_opensc_detects_a_piv_card(served_badge: tuple[PcscCard, Badge]) -> None:
    served, _ = served_badge
    result = served.run([need("opensc-tool"), "--reader", str(served.reader_index), "--name"])
    assert result.returncode == 0, result.stderr
    assert "Personal Identity Verification Card" in result.stdout


def test_opensc_lists_and_reads_the_card_authentication_certificate(
        served_badge: tuple[PcscCard, Badge]) -> None:
    served, badge = served_badge
    reader = str(served.reader_index)
    listed = served.run([need("pkcs15-tool"), "--reader", reader, "--list-certificates"])
    assert listed.returncode == 0, listed.stderr
    assert "Certificate for Card Authentication" in listed.stdout
    assert "ID             : 04" in listed.stdout
    read = served.run([need("pkcs15-tool"), "--reader", reader, "--read-certificate", "04"])
    assert read.returncode == 0, read.stderr
    assert x509.load_pem_x509_certificate(read.stdout.encode()) == badge.certificate


@pytest.mark.parametrize(("option", "algorithm"), [("--sha-256", hashes.SHA256()),
                                                   ("--sha-1", hashes.SHA1())])
def test_opensc_signature_verifies_with_the_certificate_key(
        served_badge: tuple[PcscCard, Badge], tmp_path: Path, option: str,
        algorithm: hashes.HashAlgorithm) -> None:
    served, badge = served_badge
    message = f"door 4 at {uuid.uuid4()}".encode()
    digest = hashlib.new(algorithm.name, message).digest()
    (tmp_path / "digest").write_bytes(digest)
    result = served.run([
        need("pkcs15-crypt"), "--reader", str(served.reader_index), "--sign", "--key", "04",
        option, "--signature-format", "openssl",
        "--input", str(tmp_path / "digest"), "--output", str(tmp_path / "signature"),
    ])
    assert result.returncode == 0, result.stderr
    signature = (tmp_path / "signature").read_bytes()
    key = badge.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, digest, ec.ECDSA(utils.Prehashed(algorithm)))


def test_yubico_piv_tool_status(served_badge: tuple[PcscCard, Badge]) -> None:
    served, badge = served_badge
    result = served.run([need("yubico-piv-tool"), "--reader", served.reader, "-a", "status"])
    assert result.returncode == 0, result.stderr
    assert f"CHUID:\t{badge.chuid.encode().hex()}" in result.stdout
    assert "Slot 9e:" in result.stdout
    assert "ECCP256" in result.stdout
    assert badge.certificate.fingerprint(hashes.SHA256()).hex() in result.stdout
    assert "PIN tries left:\t3" in result.stdout


def test_yubico_piv_tool_reads_the_9e_certificate(served_badge: tuple[PcscCard, Badge]) -> None:
    served, badge = served_badge
    result = served.run([need("yubico-piv-tool"), "--reader", served.reader,
                         "-a", "read-certificate", "-s", "9e"])
    assert result.returncode == 0, result.stderr
    assert x509.load_pem_x509_certificate(result.stdout.encode()) == badge.certificate


def test_door_reader_over_pcsc(served_badge: tuple[PcscCard, Badge],
                               facility_ca: CertificateAuthority) -> None:
    served, badge = served_badge
    enrolled = DoorPolicy((facility_ca.cert,), frozenset({badge.identifier}))
    stranger = DoorPolicy((facility_ca.cert,), frozenset({str(uuid.uuid4())}))
    with served.terminal.tap():
        granted = decide(served.terminal, enrolled)
    with served.terminal.tap():
        denied = decide(served.terminal, stranger)
    with served.terminal.tap():
        untrusted = decide(served.terminal, DoorPolicy.test())
    assert granted.granted, granted
    assert not denied.granted and "not on the allow-list" in denied.reason
    assert not untrusted.granted and "not a trusted CA" in untrusted.reason


def test_hcekit_tap_runs_the_door_script_over_pcsc(served_badge: tuple[PcscCard, Badge],
                                                   facility_ca: CertificateAuthority,
                                                   tmp_path: Path) -> None:
    """The CLI path a site would use with a phone on a USB reader: ``hcekit tap --reader``."""
    served, badge = served_badge
    trust = tmp_path / "trust.pem"
    trust.write_bytes(facility_ca.cert.public_bytes(serialization.Encoding.PEM))
    hcekit = [sys.executable, "-c", "import sys; from hcekit.cli import main; sys.exit(main())"]
    base = [*hcekit, "tap", "--reader", served.reader, "access-door", "-s", f"trust={trust}"]
    granted = served.run([*base, "-s", f"allow={badge.identifier}"])
    assert granted.returncode == 0, granted.stdout + granted.stderr
    assert f"door: GRANT {badge.identifier}: authenticated and on the allow-list" in granted.stdout
    denied = served.run([*base, "-s", f"allow={uuid.uuid4()}"])
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert f"door: DENY {badge.identifier}: authenticated, but not on the allow-list" in \
        denied.stdout

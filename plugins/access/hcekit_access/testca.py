"""The TEST certification authority the badge uses when nobody configured one.

Its private key is published here on purpose: ``hcekit demo`` and
``hcekit tap`` must work with zero configuration, across processes, so the
card that self-personalizes and the door reader that checks it need one
shared anchor. Anyone can issue badges under it — a door reader trusts it
only when no trust anchor was configured, and says so in every decision.
"""

from __future__ import annotations

from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

__all__ = ["ca_certificate", "ca_key", "is_test_ca"]

_TEST_CA_KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUcsWzvfJEPV5QPP/
eLql5NwniElz5f8fCus9N0wvIcuhRANCAAQe0y/4rcDORmvkA8gzMJhQyVqAWcnT
jhZW4Tg2h8UUHNK6dGSpKG9GfaZEcU/fPB1FE9PoF13lu9tX6JeBWR7I
-----END PRIVATE KEY-----
"""

_TEST_CA_CERT_PEM = b"""-----BEGIN CERTIFICATE-----
MIICAzCCAamgAwIBAgIUdMFfJttvdi7vwEyiqmVYNEz8/uQwCgYIKoZIzj0EAwIw
XjEUMBIGA1UECgwLaGNla2l0IFRFU1QxRjBEBgNVBAMMPWhjZWtpdCBURVNUIGFj
Y2VzcyBiYWRnZSBDQSAocHVibGljbHkga25vd24ga2V5LCBuZXZlciB0cnVzdCkw
HhcNMjUwMTAxMDAwMDAwWhcNNDUwMTAxMDAwMDAwWjBeMRQwEgYDVQQKDAtoY2Vr
aXQgVEVTVDFGMEQGA1UEAww9aGNla2l0IFRFU1QgYWNjZXNzIGJhZGdlIENBIChw
dWJsaWNseSBrbm93biBrZXksIG5ldmVyIHRydXN0KTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABB7TL/itwM5Ga+QDyDMwmFDJWoBZydOOFlbhODaHxRQc0rp0ZKko
b0Z9pkRxT988HUUT0+gXXeW721fol4FZHsijRTBDMBIGA1UdEwEB/wQIMAYBAf8C
AQAwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSWKAo1Y0bdo0YEJZEutlb9QIFu
mTAKBggqhkjOPQQDAgNIADBFAiEAiJXXYQXvdkxV1oZlQzuSg/Yh8986/h1Ql3Zf
o3Jx2z4CIHE2HrGhGQZFcjNCMxAsK5qs/vfcqfaXXH2l7gIomcIT
-----END CERTIFICATE-----
"""


@cache
def ca_certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(_TEST_CA_CERT_PEM)


def ca_key() -> ec.EllipticCurvePrivateKey:
    key = load_pem_private_key(_TEST_CA_KEY_PEM, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def is_test_ca(cert: x509.Certificate) -> bool:
    return cert == ca_certificate()

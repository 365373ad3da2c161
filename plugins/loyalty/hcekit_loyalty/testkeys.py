"""TEST merchant credentials — public, NOT secret, for demos and tests only.

Google publishes a test collector (ID 20180608) and its long-term private
key (version 1) with its Smart Tap sample terminal
(github.com/google-pay/smart-tap-sample-app, NegotiateCryptoCommand.java,
Apache-2.0). The default TEST program and the till script use the same pair,
so ``hcekit demo`` works out of the box and the till can also talk to a
phone that holds Google's own demo pass. Anyone can sign with this key: a
real program must be configured with its own collector ID and keys.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

__all__ = ["TEST_COLLECTOR_ID", "TEST_KEY_VERSION", "TEST_MERCHANT_KEY_PEM",
           "TEST_PROGRAM_NAME", "load_test_merchant_key"]

TEST_COLLECTOR_ID = 20180608
TEST_KEY_VERSION = 1
TEST_PROGRAM_NAME = "TEST loyalty program (public Smart Tap sample keys, not secret)"

TEST_MERCHANT_KEY_PEM = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIJtF+UHZ7FlsOTZ4zL40dHiAiQoT7Ta8eUKAyRucHl9oAoGCCqGSM49
AwEHoUQDQgAEchyXj869zfmKhRi9xP7f2AK07kEo4lE7ZlWTN14jh4YBTny+hRGR
XcUzevV9zSSPJlPHpqqu5pEwlv1xyFvE1w==
-----END EC PRIVATE KEY-----
"""


def load_test_merchant_key() -> ec.EllipticCurvePrivateKey:
    """The TEST collector's long-term private key (what a till holds)."""
    key = load_pem_private_key(TEST_MERCHANT_KEY_PEM, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("TEST merchant key is not an EC key")
    return key

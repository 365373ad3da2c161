"""EMV signatures with message recovery (Book 2 Annex A2.1) on ``cryptography``'s RSA keys.

EMV signs a message the size of the modulus, ``6A || data || hash || BC``,
with the bare RSA operation: no PKCS #1 padding, so ``cryptography``'s
signers cannot produce it. This module does only the modular exponentiation,
with the numbers ``cryptography`` gives for a key it generated (CRT form,
checked against RSA Laboratories' PKCS #1 v2.1 worked example); the message
layout, hashing and checks live with their callers.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["modulus_length", "private_operation", "public_operation"]


def modulus_length(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> int:
    """The modulus length in bytes (EMV's N_CA, N_I, N_IC)."""
    return (key.key_size + 7) // 8


def private_operation(key: rsa.RSAPrivateKey, message: bytes) -> bytes:
    """``message^d mod n`` through the CRT numbers; *message* must be a full-length block < n."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = modulus_length(key)
    m = int.from_bytes(message, "big")
    if len(message) != size or m >= n:
        raise ValueError(f"the message must be {size} bytes and below the modulus")
    m1 = pow(m % numbers.p, numbers.dmp1, numbers.p)
    m2 = pow(m % numbers.q, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (m1 - m2)) % numbers.p
    return (m2 + h * numbers.q).to_bytes(size, "big")


def public_operation(key: rsa.RSAPublicKey, signature: bytes) -> bytes:
    """``signature^e mod n``: what a verifier recovers."""
    numbers = key.public_numbers()
    size = modulus_length(key)
    s = int.from_bytes(signature, "big")
    if len(signature) != size or s >= numbers.n:
        raise ValueError(f"the signature must be {size} bytes and below the modulus")
    return pow(s, numbers.e, numbers.n).to_bytes(size, "big")

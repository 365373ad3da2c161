"""Every Smart Tap detail the public documentation leaves open, decided once, here.

Google's Smart Tap 2.1 pages (developers.google.com/wallet/smart-tap) describe
the commands, the NDEF records, the signature, the key derivation and the
status-word *families*; the reverse-engineering notes of kormax/google-smart-tap
and Google's Apache-2.0 sample terminal (google-pay/smart-tap-sample-app) fill
in more. What none of them states is decided in this module and nowhere else,
so a correction is a one-line change here. ``docs/loyalty.md`` lists each
choice with its reason.
"""

from __future__ import annotations

__all__ = [
    "BUNDLE_FLAG_ENCRYPTED", "BUNDLE_FLAG_COMPRESSED",
    "SW_PERMANENT_UNKNOWN", "SW_UNSUPPORTED_VERSION", "SW_AUTHENTICATION_FAILED",
    "SW_UNKNOWN_MERCHANT", "SW_FORMAT_INVALID", "SW_INVALID_SEQUENCE", "SW_SESSION_REQUIRED",
    "SIGNED_DATA_IN_HKDF_INFO", "SESSION_KEY_LENGTH", "LEDGER_KEY_OFFSET", "LEDGER_KEY_LENGTH",
    "POINTS_LENGTH", "COUNTER_LENGTH", "RECORD_BALANCE", "RECORD_LEDGER_MAC",
    "LEDGER_SIGNATURE_CONTEXT",
    "MAX_POINTS", "OBJECT_ID_LENGTH", "CUSTOMER_ID_LENGTH",
]

# -- record bundle (``reb``) first byte ---------------------------------------
# Public: the sample terminal treats 2 and 3 as "compressed"; a device that
# was told zlib is supported sent 03. Our reading: bit 0 = encrypted,
# bit 1 = zlib-compressed (compression applied before encryption).
BUNDLE_FLAG_ENCRYPTED = 0x01
BUNDLE_FLAG_COMPRESSED = 0x02

# -- second bytes of the 93xx ("permanent failure, stop Smart Tap") family ---
# Public: the family and its meaning; the individual values below are ours.
SW_PERMANENT_UNKNOWN = 0x9300
SW_UNSUPPORTED_VERSION = 0x9301
#: Bad merchant signature, unknown key version, bad ledger MAC.
SW_AUTHENTICATION_FAILED = 0x9302
#: The collector ID names no program this card holds.
SW_UNKNOWN_MERCHANT = 0x9303
#: Malformed NDEF or a mandatory record missing.
SW_FORMAT_INVALID = 0x9304
#: Wrong session ID or sequence number, or a replayed ledger counter.
SW_INVALID_SEQUENCE = 0x9305
#: GET DATA / PUSH DATA without a negotiated secure session (the public docs
#: allow a device to refuse passes without one; we always refuse).
SW_SESSION_REQUIRED = 0x9306

# -- key derivation --------------------------------------------------------------
# Public: HKDF-SHA256, IKM = ECDH secret, salt = device ephemeral key
# (compressed), info = terminal nonce | device nonce | collector ID |
# terminal ephemeral key | signature, 48 bytes = AES-128 key | HMAC key.
# Open: with the live-auth flag clear the signature covers 32 zero bytes
# instead of the device nonce; we put exactly the signed bytes into info.
SIGNED_DATA_IN_HKDF_INFO = True
SESSION_KEY_LENGTH = 48
# Ours: the points ledger's request MAC key is the next 32 bytes of the same
# HKDF output (HKDF output is a prefix-stable stream, so the documented 48
# bytes are unchanged).
LEDGER_KEY_OFFSET = 48
LEDGER_KEY_LENGTH = 32

# -- loyalty objects and the points ledger (PUSH DATA) ---------------------------
# Public: ``oid`` is a format byte + 8-byte object ID; ``cid`` a format byte +
# 16 bytes; ``sup`` is a one-byte operation (ADD_BALANCE 03, SUBTRACT_BALANCE
# 04) "concatenated with a value"; ``tcr`` names a transaction counter.
# Ours: the value and the counter are unsigned big-endian integers of the
# lengths below; the balance travels in an extra ``bal`` record inside the
# loyalty object; the request MAC in an extra ``mac`` record, the last one of
# the push request, computed over the wire bytes of the records before it;
# before it, a ``sig`` record (the public signature record: format byte + DER)
# holds the till's ECDSA signature with the collector's long-term key over
# LEDGER_SIGNATURE_CONTEXT | device nonce | wire bytes of ``ses`` and ``ssr``.
OBJECT_ID_LENGTH = 8
CUSTOMER_ID_LENGTH = 16
POINTS_LENGTH = 4
COUNTER_LENGTH = 4
MAX_POINTS = (1 << (8 * POINTS_LENGTH)) - 1
RECORD_BALANCE = b"bal"
RECORD_LEDGER_MAC = b"mac"
LEDGER_SIGNATURE_CONTEXT = b"hcekit loyalty ledger v1\x00"

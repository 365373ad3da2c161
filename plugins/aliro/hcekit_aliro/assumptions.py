"""Every Aliro byte the public material leaves open, decided once, here.

The public sources are the CSA certification tool's test cases and reader
(aliro-access-control/aliro-certification-tool, …/aliro-actuator), Proxmark3's
``hf aliro`` reader and the UnifiedAccess write-ups (kormax/apple-home-key).
They fix the commands, tags, key derivation and encryption; the Aliro
specification itself (which would settle the rest) is not public. What they
leave open is chosen in this module and nowhere else, so a correction is a
one-line change. ``docs/aliro.md`` lists each choice with its reason.
"""

from __future__ import annotations

from hcekit import SW

__all__ = [
    "SUPPORTED_VERSIONS", "MAX_COMMAND_APDU", "MAX_RESPONSE_APDU",
    "SW_WRONG_P1P2", "SW_BAD_DATA", "SW_UNSUPPORTED_VERSION", "SW_SEQUENCE",
    "SW_READER_NOT_TRUSTED", "SW_BAD_SIGNATURE", "SW_BAD_CERTIFICATE", "SW_DECRYPT_FAILED",
    "SW_COUNTER_EXHAUSTED", "SW_NO_STEP_UP_SESSION",
    "MAILBOX_CONTAINER_TAGS", "ATOMIC_SESSION_TAG",
    "EXCHANGE_OK", "EXCHANGE_OUT_OF_BOUNDS", "EXCHANGE_NOT_PERMITTED",
    "MAILBOX_SIZE", "MAILBOX_ADDRESS_SPACE", "MAILBOX_SUBSET_LENGTH", "KPERSISTENT_CACHE_SIZE",
    "KEY_SLOT_HASH_PREFIX", "COUNTER_LIMIT", "CERTIFICATE_PROFILE",
    "UNKNOWN_READER_PROCEEDS_TO_AUTH1", "AUTH0_IGNORES_UNKNOWN_TAGS", "AUTH1_IGNORES_UNKNOWN_TAGS",
    "EXCHANGE_IGNORES_UNKNOWN_TAGS", "EXCHANGE_AFTER_STEP_UP_TRIES_STEP_UP_KEYS",
]

# -- SELECT ----------------------------------------------------------------------------------
# Public: FCI 6F{84 AID, A5{80 type, 5C versions, 7F66{02 max cmd, 02 max resp}, B3 vendor}};
# the tool's reader only speaks 1.0 (PROTOCOL_VERSION = 0x0100).
# Ours: we list 1.0 only, and announce extended length limits (7F66 is optional).
SUPPORTED_VERSIONS = (0x0100,)
MAX_COMMAND_APDU = 0x0400
MAX_RESPONSE_APDU = 0x0400

# -- status words of the negative cases -----------------------------------------------------
# Public: the certification cases only require "an error status" (any SW other than 9000)
# for wrong P1-P2, an extra tag, a wrong value, an unsupported version, a wrong reader
# signature, a malformed or wrongly signed certificate; 6883 for a chain that is not
# completed (ISO 7816-4, answered by hcekit's core). The individual values are ours,
# taken from ISO 7816-4's meanings:
SW_WRONG_P1P2 = SW.INCORRECT_P1P2            # 6A86
SW_BAD_DATA = SW.INCORRECT_DATA              # 6A80: missing/extra/duplicate tag, bad length or value
SW_UNSUPPORTED_VERSION = SW.FUNCTION_NOT_SUPPORTED  # 6A81: a version the FCI did not offer
SW_SEQUENCE = SW.CONDITIONS_OF_USE_NOT_SATISFIED    # 6985: AUTH1/LOAD CERT/EXCHANGE out of order
SW_READER_NOT_TRUSTED = SW.SECURITY_STATUS_NOT_SATISFIED  # 6982: no key for this reader group
SW_BAD_SIGNATURE = SW.SECURITY_STATUS_NOT_SATISFIED       # 6982: reader signature does not verify
SW_BAD_CERTIFICATE = SW.INCORRECT_DATA                    # 6A80: certificate malformed or unsigned
SW_DECRYPT_FAILED = SW.SECURITY_STATUS_NOT_SATISFIED      # 6982: GCM tag check failed
SW_COUNTER_EXHAUSTED = SW.CONDITIONS_OF_USE_NOT_SATISFIED  # 6985
SW_NO_STEP_UP_SESSION = SW.CONDITIONS_OF_USE_NOT_SATISFIED  # 6985: ENVELOPE without AUTH1 keys

# -- unknown tags ----------------------------------------------------------------------------
# Public, and not uniform: NFC_UD_NEG_AUTH0_EXTRA_TAG sends an undefined tag (AA) in AUTH0 and
# expects AUTH0, AUTH1 and EXCHANGE to succeed; NFC_UD_NEG_AUTH1_EXTRA_TAG expects an error
# status for the same in AUTH1; NFC_UD_NEG_EXCHANGE_WITH_EXTRA_TAG sends an undefined tag (99)
# next to the mailbox operations and expects them answered with success. Known tags are
# checked strictly everywhere (length, value, repetition).
AUTH0_IGNORES_UNKNOWN_TAGS = True
AUTH1_IGNORES_UNKNOWN_TAGS = False
EXCHANGE_IGNORES_UNKNOWN_TAGS = True

# -- EXCHANGE after step-up ------------------------------------------------------------------
# Public, and in disagreement: aliro-actuator's user device (access_protocol/user_device.py,
# handle_exchange) decrypts an EXCHANGE that follows an ENVELOPE under the step-up keys; the
# certification tool's NFC_UD_STEPUP_AD sends it under the expedited keys (aliro-actuator's
# reader offers both, ReaderState.EXPEDITED by default). Ours: accept both, step-up first.
EXCHANGE_AFTER_STEP_UP_TRIES_STEP_UP_KEYS = True

# -- EXCHANGE --------------------------------------------------------------------------------
# Public: mailbox operations read 87(offset2,len2), write 8A(offset2|data), set
# 95(offset2,len2,value1) inside a mailbox container with an "atomic session" flag;
# the answer is the read data (len2|data per read) followed by a 4-byte status,
# 00020000 on success. Open: the container's tag (0xB9 in the tool's older defines,
# "BA" in its newer sequence tables), the atomic-session tag, and the error statuses.
MAILBOX_CONTAINER_TAGS = (0xBA, 0xB9)
ATOMIC_SESSION_TAG = 0x8C
EXCHANGE_OK = bytes.fromhex("00020000")
#: An operation beyond the 16-bit mailbox address space (offset + length > 0x10000), or a
#: write/set beyond the mailbox's end: the whole EXCHANGE is refused, no data returned.
#: (NFC_UD_EXCHANGE_MAILBOX_OUT_OF_BOUNDS expects success for a read that runs past the
#: end of a 0x12C-byte mailbox but stays in the address space: such a read returns the
#: bytes that exist; NFC_UD_NEG_EXCHANGE_MAILBOX_OUT_OF_BOUNDS expects an error for
#: offset 0x11C + length 0xFF00.)
EXCHANGE_OUT_OF_BOUNDS = bytes.fromhex("00020001")
MAILBOX_ADDRESS_SPACE = 0x10000
#: Mailbox writes with the write bit cleared, or a malformed mailbox operation.
EXCHANGE_NOT_PERMITTED = bytes.fromhex("00020002")
#: Public: "mailboxes have 16 bits of addressable space" and, in the tool's positive
#: out-of-bounds case, "mailbox size is fixed to 0x12C"; we use that size.
MAILBOX_SIZE = 0x12C
#: AUTH1 tag 4B (optional private mailbox subset): the first bytes of the mailbox.
MAILBOX_SUBSET_LENGTH = 0  # 0: tag 4B not sent

# -- credential storage -------------------------------------------------------------------
#: The tool has a "Kpersistent cache max" case; its reader keeps 16. We keep 32 readers (LRU).
KPERSISTENT_CACHE_SIZE = 32
#: AUTH1 tag 4E key slot (8 bytes): the first 8 bytes of SHA-256(uncompressed public key).
KEY_SLOT_HASH_PREFIX = 8
#: Secure-channel message counters stop before wrapping (the tool checks < 0xFFFF).
COUNTER_LIMIT = 0xFFFF
#: Compressed reader certificate profile (tool: OCTET STRING 0000).
CERTIFICATE_PROFILE = b"\x00\x00"
#: Public (NFC_UD_NEG_AUTH0_UNKNOWN_READER_ID): AUTH0 with an unknown reader identifier is
#: answered normally (the credential reveals nothing before reader authentication); AUTH1
#: then fails unless a certificate names a trusted issuer.
UNKNOWN_READER_PROCEEDS_TO_AUTH1 = True

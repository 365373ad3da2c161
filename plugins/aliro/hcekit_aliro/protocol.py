"""Aliro NFC wire constants: AIDs, instructions, BER-TLV tags and fixed lengths.

Every value here is public: the CSA certification tool's reader
(aliro-access-control/aliro-actuator, ``access_protocol/defines.py`` and
``apdu.py``) and Proxmark3's independent reader (``client/src/cmdhfaliro.c``)
agree on them. Choices the public material leaves open live in
:mod:`.assumptions`, not here.
"""

from __future__ import annotations

__all__ = [
    "EXPEDITED_AID", "STEP_UP_AID", "APPLICATION_TYPE_CSA", "PROTOCOL_VERSION_1_0",
    "CLA_PROPRIETARY", "CLA_INTERINDUSTRY",
    "INS_AUTH0", "INS_AUTH1", "INS_LOAD_CERT", "INS_EXCHANGE", "INS_CONTROL_FLOW",
    "INS_ENVELOPE", "INS_GET_RESPONSE",
    "TAG_FCI", "TAG_FCI_AID", "TAG_PROPRIETARY", "TAG_APPLICATION_TYPE", "TAG_VERSIONS",
    "TAG_EXTENDED_LENGTH", "TAG_INTEGER", "TAG_SELECT_VENDOR",
    "TAG_COMMAND_PARAMETERS", "TAG_AUTH_POLICY", "TAG_VERSION", "TAG_READER_EPHEMERAL",
    "TAG_TRANSACTION_ID", "TAG_READER_ID", "TAG_AUTH0_VENDOR", "TAG_ENDPOINT_EPHEMERAL",
    "TAG_CRYPTOGRAM", "TAG_AUTH0_RESPONSE_VENDOR",
    "TAG_SIGNATURE", "TAG_CERTIFICATE", "TAG_KEY_SLOT", "TAG_ENDPOINT_PUBLIC_KEY",
    "TAG_MAILBOX_SUBSET", "TAG_SIGNALING_BITMAP", "TAG_CREDENTIAL_TIMESTAMP",
    "TAG_REVOCATION_TIMESTAMP", "TAG_USAGE",
    "TAG_READ", "TAG_WRITE", "TAG_SET", "TAG_NOTIFY", "TAG_READER_STATUS", "TAG_URSK",
    "TAG_UPDATE_DOC", "TAG_ENVELOPE_MESSAGE", "TAG_S1", "TAG_S2", "TAG_DOMAIN_SPECIFIC",
    "READER_CONTEXT", "ENDPOINT_CONTEXT", "NFC_INTERFACE", "SALT_VOLATILE_FAST",
    "SALT_VOLATILE", "SALT_PERSISTENT", "STEP_UP_READER_INFO", "STEP_UP_DEVICE_INFO",
    "POINT_LENGTH", "COORDINATE_LENGTH", "TRANSACTION_ID_LENGTH", "READER_ID_LENGTH",
    "READER_GROUP_LENGTH", "SIGNATURE_LENGTH", "CRYPTOGRAM_LENGTH", "TIMESTAMP_LENGTH",
    "KEY_SLOT_LENGTH", "GCM_TAG_LENGTH", "VENDOR_EXTENSION_MAX",
    "FLOW_FAST", "POLICY_USER_DEVICE", "POLICY_FORCE_USER_AUTHENTICATION",
    "AUTH1_WANTS_PUBLIC_KEY",
    "BIT_ACCESS_DOCUMENT", "BIT_REVOCATION_DOCUMENT", "BIT_STEP_UP_SELECT",
    "BIT_MAILBOX_NONZERO", "BIT_MAILBOX_READ", "BIT_MAILBOX_WRITE",
    "EXCHANGE_READ_LENGTH", "EXCHANGE_SET_LENGTH", "READER_STATUS_LENGTH",
    "ACCESS_DOCUMENT_TYPE", "REVOCATION_DOCUMENT_TYPE",
]

#: Expedited phase (AUTH0/AUTH1/EXCHANGE) and step-up phase (ENVELOPE) applications.
EXPEDITED_AID = bytes.fromhex("A000000909ACCE5501")
STEP_UP_AID = bytes.fromhex("A000000909ACCE5502")
#: FCI proprietary tag 80: "CSA application".
APPLICATION_TYPE_CSA = 0x0000
PROTOCOL_VERSION_1_0 = 0x0100

CLA_PROPRIETARY = 0x80
CLA_INTERINDUSTRY = 0x00
INS_AUTH0 = 0x80
INS_AUTH1 = 0x81
INS_LOAD_CERT = 0xD1
INS_EXCHANGE = 0xC9
INS_CONTROL_FLOW = 0x3C
INS_ENVELOPE = 0xC3
INS_GET_RESPONSE = 0xC0

# -- SELECT answer (FCI) -------------------------------------------------------------
TAG_FCI = 0x6F
TAG_FCI_AID = 0x84
TAG_PROPRIETARY = 0xA5
TAG_APPLICATION_TYPE = 0x80
TAG_VERSIONS = 0x5C
TAG_EXTENDED_LENGTH = 0x7F66
TAG_INTEGER = 0x02
TAG_SELECT_VENDOR = 0xB3

# -- AUTH0 -----------------------------------------------------------------------------
TAG_COMMAND_PARAMETERS = 0x41
TAG_AUTH_POLICY = 0x42
TAG_VERSION = 0x5C
TAG_READER_EPHEMERAL = 0x87
TAG_TRANSACTION_ID = 0x4C
TAG_READER_ID = 0x4D
TAG_AUTH0_VENDOR = 0xB1
TAG_ENDPOINT_EPHEMERAL = 0x86
TAG_CRYPTOGRAM = 0x9D
TAG_AUTH0_RESPONSE_VENDOR = 0xB2

# -- AUTH1 -----------------------------------------------------------------------------
TAG_SIGNATURE = 0x9E
TAG_CERTIFICATE = 0x90
TAG_KEY_SLOT = 0x4E
TAG_ENDPOINT_PUBLIC_KEY = 0x5A
TAG_MAILBOX_SUBSET = 0x4B
TAG_SIGNALING_BITMAP = 0x5E
TAG_CREDENTIAL_TIMESTAMP = 0x91
TAG_REVOCATION_TIMESTAMP = 0x92
#: Context tag closing the signed authentication data (reader / endpoint usage).
TAG_USAGE = 0x93

# -- CONTROL FLOW ------------------------------------------------------------------------
TAG_S1 = 0x41
TAG_S2 = 0x42
TAG_DOMAIN_SPECIFIC = 0x43

# -- EXCHANGE (inside the secure channel) ----------------------------------------------
TAG_READ = 0x87
TAG_WRITE = 0x8A
TAG_SET = 0x95
TAG_NOTIFY = 0xAE
TAG_READER_STATUS = 0x97
TAG_URSK = 0x98
TAG_UPDATE_DOC = 0x81
EXCHANGE_READ_LENGTH = 4
EXCHANGE_SET_LENGTH = 5
READER_STATUS_LENGTH = 2

# -- ENVELOPE (step-up) ------------------------------------------------------------------
TAG_ENVELOPE_MESSAGE = 0x53
ACCESS_DOCUMENT_TYPE = "aliro-a"
REVOCATION_DOCUMENT_TYPE = "aliro-r"

# -- key derivation constants --------------------------------------------------------------
READER_CONTEXT = bytes.fromhex("415D9569")
ENDPOINT_CONTEXT = bytes.fromhex("4E887B4C")
#: Interface byte in the HKDF salt: 5E for NFC (C3 would be BLE).
NFC_INTERFACE = 0x5E
SALT_VOLATILE_FAST = b"VolatileFast"
SALT_VOLATILE = b"Volatile****"
SALT_PERSISTENT = b"Persistent**"
STEP_UP_READER_INFO = b"SKReader"
STEP_UP_DEVICE_INFO = b"SKDevice"

# -- lengths -----------------------------------------------------------------------------
POINT_LENGTH = 65
COORDINATE_LENGTH = 32
TRANSACTION_ID_LENGTH = 16
READER_ID_LENGTH = 32
READER_GROUP_LENGTH = 16
SIGNATURE_LENGTH = 64
CRYPTOGRAM_LENGTH = 64
TIMESTAMP_LENGTH = 20
KEY_SLOT_LENGTH = 8
GCM_TAG_LENGTH = 16
VENDOR_EXTENSION_MAX = 127

# -- parameter bits ------------------------------------------------------------------------
#: AUTH0 tag 41 bit 0: the reader asks for the fast (expedited fast) transaction.
FLOW_FAST = 0x01
POLICY_USER_DEVICE = 0x01
POLICY_FORCE_USER_AUTHENTICATION = 0x03
#: AUTH1 tag 41 bit 0: answer with the credential public key (else a key slot).
AUTH1_WANTS_PUBLIC_KEY = 0x01

# -- signaling bitmap (AUTH1 tag 5E, big-endian 16 bits) -------------------------------------
BIT_ACCESS_DOCUMENT = 1 << 0
BIT_REVOCATION_DOCUMENT = 1 << 1
BIT_STEP_UP_SELECT = 1 << 2
BIT_MAILBOX_NONZERO = 1 << 3
BIT_MAILBOX_READ = 1 << 4
BIT_MAILBOX_WRITE = 1 << 5

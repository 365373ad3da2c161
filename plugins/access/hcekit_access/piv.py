"""NIST SP 800-73-4 numbers the badge speaks: AID, tags, key references, algorithms.

Named once here so the applet, the door reader and the tests agree. Only the
subset a contactless physical-access reader uses is listed (SP 800-73-4
Part 1 tables 3, 8, 9, 10, 19 and Part 2 section 3).
"""

from __future__ import annotations

from enum import IntEnum

from hcekit.atr import contactless_atr

__all__ = [
    "NIST_RID",
    "PIV_PIX",
    "PIV_AID",
    "PIV_AID_SHORT",
    "PIV_ATR",
    "Ins",
    "Tag",
    "KeyRef",
    "Alg",
    "ObjectTag",
    "OID_PIV_CARD_AUTH_EKU",
    "OID_PIV_FASCN",
]

#: Registered application provider identifier of NIST.
NIST_RID = bytes.fromhex("A000000308")
#: PIX of the PIV Card Application, version 01 00 (SP 800-73-4 Part 1, 2.2).
PIV_PIX = bytes.fromhex("000010000100")
PIV_AID = NIST_RID + PIV_PIX
#: The AID without its version bytes; what most clients (OpenSC) select.
PIV_AID_SHORT = PIV_AID[:9]

#: The ATR the badge presents through PC/SC: a contactless ATR (PC/SC part 3)
#: whose historical bytes are compact-TLV (category 80) with tag F
#: "application identifier" = the PIV AID without version. OpenSC's PIV
#: driver reads exactly this and takes the card for PIV without guessing;
#: ``3B 80 80 01 01`` would make it assume a PIVKEY token without EC keys.
PIV_ATR = contactless_atr(b"\x80" + bytes([0xF0 | len(PIV_AID_SHORT)]) + PIV_AID_SHORT)


class Ins(IntEnum):
    """PIV command instructions (SP 800-73-4 Part 2, section 3)."""

    SELECT = 0xA4
    VERIFY = 0x20
    GET_DATA = 0xCB
    GENERAL_AUTHENTICATE = 0x87


class Tag(IntEnum):
    """BER-TLV tags of the PIV command and response templates."""

    # SELECT: application property template (Part 1, table 3)
    APPLICATION_PROPERTY_TEMPLATE = 0x61
    APPLICATION_IDENTIFIER = 0x4F
    COEXISTENT_TAG_ALLOCATION_AUTHORITY = 0x79
    APPLICATION_LABEL = 0x50
    UNIFORM_RESOURCE_LOCATOR = 0x5F50
    CRYPTOGRAPHIC_ALGORITHMS = 0xAC
    ALGORITHM_IDENTIFIER = 0x80
    OBJECT_IDENTIFIER = 0x06
    # GET DATA
    TAG_LIST = 0x5C
    DATA_OBJECT = 0x53
    # GENERAL AUTHENTICATE: dynamic authentication template (Part 2, table 7)
    DYNAMIC_AUTHENTICATION_TEMPLATE = 0x7C
    WITNESS = 0x80
    CHALLENGE = 0x81
    RESPONSE = 0x82
    EXPONENTIATION = 0x85
    # CHUID (Part 1, table 9)
    FASCN = 0x30
    ORGANIZATIONAL_IDENTIFIER = 0x32
    DUNS = 0x33
    GUID = 0x34
    EXPIRATION_DATE = 0x35
    CARDHOLDER_UUID = 0x36
    ISSUER_ASYMMETRIC_SIGNATURE = 0x3E
    ERROR_DETECTION_CODE = 0xFE
    # X.509 certificate containers (Part 1, table 10)
    CERTIFICATE = 0x70
    CERT_INFO = 0x71
    MSCUID = 0x72
    # Discovery object (Part 1, table 18)
    DISCOVERY = 0x7E
    PIN_USAGE_POLICY = 0x5F2F
    # Key history object (Part 1, table 19)
    KEYS_WITH_ON_CARD_CERTS = 0xC1
    KEYS_WITH_OFF_CARD_CERTS = 0xC2
    OFF_CARD_CERT_URL = 0xF3


class ObjectTag(IntEnum):
    """BER-TLV tags of the PIV data objects read with GET DATA (Part 1, table 3)."""

    CARD_CAPABILITY_CONTAINER = 0x5FC107
    CHUID = 0x5FC102
    PIV_AUTHENTICATION_CERT = 0x5FC105
    CARD_AUTHENTICATION_CERT = 0x5FC101
    DIGITAL_SIGNATURE_CERT = 0x5FC10A
    KEY_MANAGEMENT_CERT = 0x5FC10B
    SECURITY_OBJECT = 0x5FC106
    KEY_HISTORY = 0x5FC10C
    DISCOVERY = 0x7E


class KeyRef(IntEnum):
    """Key references (Part 1, table 4)."""

    PIV_PIN = 0x80
    PUK = 0x81
    MANAGEMENT = 0x9B
    PIV_AUTHENTICATION = 0x9A
    DIGITAL_SIGNATURE = 0x9C
    KEY_MANAGEMENT = 0x9D
    CARD_AUTHENTICATION = 0x9E


class Alg(IntEnum):
    """Cryptographic mechanism identifiers (SP 800-78-4, table 6-2)."""

    RSA_2048 = 0x07
    ECC_P256 = 0x11
    ECC_P384 = 0x14


#: id-PIV-cardAuth extended key usage (FIPS 201 / SP 800-76 OID arc 2.16.840.1.101.3.6.8).
OID_PIV_CARD_AUTH_EKU = "2.16.840.1.101.3.6.8"
#: id-piv-FASC-N, the otherName of the FASC-N in a PIV certificate's subjectAltName.
OID_PIV_FASCN = "2.16.840.1.101.3.6.6"

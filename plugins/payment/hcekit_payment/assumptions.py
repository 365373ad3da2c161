"""Every ODA byte the public EMV books leave to the card's issuer, decided once, here.

Sources (all public, free from EMVCo's website): EMV 4.3 Book 2 (security:
certificate and signature formats §5–§6, Annex A2.1 signatures with message
recovery, Annex B hash), Book 3 (commands, data elements, AIP bits Annex C1).
Card-side behaviour is taken only from these books; the contactless kernel
books (C-2, C-3 …) are not used for card behaviour. Where the books leave a
value to the issuer, the choice is made below and nowhere else, so a
correction is a one-line change; ``docs/payment.md`` lists them.
"""

from __future__ import annotations

__all__ = [
    "CA_INDEX", "BRAND_RIDS", "ISSUER_KEY_BITS", "ICC_KEY_BITS", "ISSUER_EXPONENT",
    "ICC_EXPONENT", "ISSUER_CERT_EXPIRY", "ICC_CERT_EXPIRY", "EXPIRED_CERT_EXPIRY", "ISSUER_CERT_SERIAL",
    "ICC_CERT_SERIAL", "DDOL", "ICC_DYNAMIC_NUMBER_LENGTH", "DATA_AUTHENTICATION_CODE",
    "ODA_METHODS", "ODA_FAULTS", "MC_KEY_DERIVATION_INDEX", "MC_IAD_LENGTH",
    "PIN_TRY_LIMIT", "PUT_DATA_TAGS", "SW_SCRIPT_MAC_WRONG", "INITIAL_PIN", "SW_PIN_BLOCKED",
    "UPDATABLE_SFIS",
]

# -- the TEST CA (Book 2 §5.1, §11.2.2) -------------------------------------------------------
# Ours: a CAPK index no payment network documents for its own test keys that we know of;
# the same key under Visa's and Mastercard's RID (Book 1 Annex: RIDs are public).
CA_INDEX = 0xF9
BRAND_RIDS = (bytes.fromhex("A000000003"), bytes.fromhex("A000000004"))

# -- issuer and ICC keys (Book 2 §5.1: N_I ≤ 1984 bits, exponent 3 or 2^16+1) ------------------
# Ours: both larger than what the certificate above them can hold, so the issuer (N_CA - 36)
# and ICC (N_I - 42) public key remainders (92, 9F48) are exercised. The CA key is 1408 bits.
ISSUER_KEY_BITS = 1408
ICC_KEY_BITS = 1152
ISSUER_EXPONENT = 65537
ICC_EXPONENT = 3

# -- certificates (Book 2 Tables 13, 14) -------------------------------------------------------
# Ours: expiry MMYY and serial numbers. A certificate expires on the last day of its month
# (Book 2 §5.3 step 10, §6.4 step 10).
ISSUER_CERT_EXPIRY = "1235"
ICC_CERT_EXPIRY = "1235"
#: The "expired issuer certificate" fault: December 2020.
EXPIRED_CERT_EXPIRY = "1220"
ISSUER_CERT_SERIAL = bytes.fromhex("000001")
ICC_CERT_SERIAL = bytes.fromhex("000001")

# -- SDA / DDA (Book 2 §5.4, §6.5; Book 3 §10.3) ----------------------------------------------
# Ours: the Data Authentication Code (9F45) of the SSAD, and the card's DDOL: the terminal's
# unpredictable number only (Book 3 §10.3 names 9F37 as the DDOL's minimum content).
DATA_AUTHENTICATION_CODE = bytes.fromhex("DAC1")
DDOL = ((0x9F37, 4),)
#: ICC Dynamic Number (9F4C): 2–8 bytes (Book 2 §6.5.2); ours 8 random bytes.
ICC_DYNAMIC_NUMBER_LENGTH = 8

# -- what personalisation offers ---------------------------------------------------------------
#: ``fdda``: DDA's signature in the quick contactless GPO answer over the terminal's unpredictable
#: number, amount and currency (a Book 2 §6.5 signature with that terminal dynamic data).
ODA_METHODS = ("sda", "dda", "fdda", "cda")
#: Deliberately broken cards for a terminal's failure paths.
ODA_FAULTS = ("expired-issuer-cert", "bad-hash", "wrong-ca-index")

# -- the Mastercard profile (CVN 16) ------------------------------------------------------------
# Public: the AID A0000000041010 and the CVN 16 cryptogram (ICC MK option A, session key over
# ATC || 0000 || UN, MAC over the CDOL1 inputs, AIP, ATC and a 6-byte CVR, EMV padding), as
# pyemv's MasterCardCVN16 implements it. Ours (no public Mastercard card specification gives
# them): the IAD layout key derivation index || CVN || CVR (6) || 10 zero bytes (18 bytes,
# the length M/Chip cards are commonly seen answering with) and the CVR's use of byte 1 for
# the cryptogram types with the bit layout of Visa's CVR byte 2; the other CVR bytes are zero.
MC_KEY_DERIVATION_INDEX = 0x01
MC_IAD_LENGTH = 18

# -- issuer scripts (Book 3 §6.5, §10.10; Book 2 §9) ---------------------------------------------
# Public: APPLICATION BLOCK 84 1E, APPLICATION UNBLOCK 84 18, PIN CHANGE/UNBLOCK 84 24 (P2 00
# unblock, 01 change with the current PIN, 02 change without it), SELECT of a blocked
# application answering 6283 and its GENERATE AC only an AAC (Book 3 §6.5.1).
# Ours: the PIN try limit a PIN UNBLOCK restores; PUT DATA (04 DA, not in Book 3's command list)
# accepts only the Lower Consecutive Offline Limit 9F14 (Book 3 Annex A: b, 1 byte), read back
# with GET DATA; a wrong MAC answers 6988 ("incorrect secure messaging data objects",
# ISO/IEC 7816-4), which is what EMV cards commonly answer.
PIN_TRY_LIMIT = 3
PUT_DATA_TAGS = {0x9F14: 1}
SW_SCRIPT_MAC_WRONG = 0x6988

# -- PIN CHANGE with the current PIN (Book 3 §6.5.10, P2 01) -----------------------------------
# Public: P2 01 carries enciphered PIN data holding the current and the new PIN; a successful
# PIN CHANGE resets the PIN try counter; a PIN check that fails answers 63Cx (x = tries left)
# and one refused because the counter is 0 answers 6983, as VERIFY does (Book 3 §6.5.12).
# Ours (the books leave the PIN data to the issuer): the data is the PIN block Visa cards use,
# as pyemv's public ``VisaCVN22.generate_pin_change_command(current_pin=…)`` builds it:
# length and digits of the new PIN (control nibble 0, F-filled) XOR bytes 5–8 of the card's
# AC master key XOR the current PIN's digits zero-filled, enciphered under the SMC session key
# with a length byte first, padding method 2 always, two-key 3DES in ECB mode
# (:mod:`hcekit_payment.script_sm`). The card cannot tell a wrong current PIN from other
# damage to the block: a block that does not unmask to a PIN counts as a wrong current PIN;
# only framing errors (length byte, padding) answer 6A80 without a try. The PIN a card has
# until a PIN CHANGE sets one: the TEST PIN 1234.
INITIAL_PIN = "1234"
SW_PIN_BLOCKED = 0x6983

# -- UPDATE RECORD (ISO/IEC 7816-4 INS DC, an issuer script command beside Book 3 §6.5's) ------
# Public: P1 the record number, P2 = SFI << 3 | 100 (ISO/IEC 7816-4, as READ RECORD, Book 3
# §6.5.11); records of SFI 1–10 are one template 70 (Book 3). Ours: secure messaging format 2
# as for PUT DATA (CLA 04, the MAC last; CLA 0C, ISO format 1, is not supported: 6E00); every
# existing record of the files below may be rewritten, none added (6A82 / 6A83 as READ
# RECORD); a new record that is not one template 70 answers 6A80, one longer than 247 bytes
# (a short APDU's 255 less the MAC) 6700. The card does not guard its signed data: Book 2
# gives the card no part in SDA (§5.4: the terminal hashes the records it read), so a change
# to a record the AFL marks for ODA makes SDA fail, and the ICC certificate's hash (§6.4)
# DDA/CDA, until the issuer also writes a new SSAD or certificates: SFI 3 (where they are) is
# updatable for that reason.
UPDATABLE_SFIS = frozenset({1, 2, 3})

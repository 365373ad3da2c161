"""What a Type 4 Tag and its readers agree on (NFC Forum T4T 2.0): AID, files, CC fields.

The card (:mod:`.plugin`) and the reader (:mod:`.reader`) both import these;
neither imports the other's module for them.
"""

from __future__ import annotations

NDEF_APP_AID = bytes.fromhex("D2760000850101")
CC_FILE_ID = 0xE103
NDEF_FILE_ID = 0xE104
MAPPING_VERSION_2_0 = 0x20
#: Largest READ BINARY answer we announce: 256, what a short Le of 00 asks for (ISO/IEC
#: 7816-4), as NXP's NTAG 424 DNA announces; the largest UPDATE BINARY data: 255 (short Lc).
MLE = 0x0100
MLC = 0x00FF
ACCESS_GRANTED = 0x00
ACCESS_DENIED = 0xFF
TAG_NDEF_FILE_CONTROL = 0x04
NLEN_SIZE = 2

INS_READ_BINARY = 0xB0
INS_UPDATE_BINARY = 0xD6
P1_SELECT_BY_FILE_ID = 0x00
MAX_OFFSET = 0x7FFF

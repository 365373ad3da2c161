"""What the eMRTD chip and an inspection system agree on: the AID and the file commands.

The chip (:mod:`.plugin`) and the inspection system (:mod:`.reader`) both
import these; neither imports the other's module for them.
"""

from __future__ import annotations

#: ICAO LDS1 eMRTD application (Doc 9303 Part 10 §3.1).
EMRTD_AID = bytes.fromhex("A0000002471001")
INS_READ_BINARY = 0xB0
P1_SELECT_MF_DF_EF = 0x00
P1_SELECT_EF = 0x02
P2_NO_RESPONSE_DATA = 0x0C
P1_SFI = 0x80
SFI_MASK = 0x1F

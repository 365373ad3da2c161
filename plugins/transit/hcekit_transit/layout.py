"""The transit card layout and personalisation: one DESFire application, five files.

=====  ===============  ==========  =====  ====================================
file   type             comm        R W RW C   content
=====  ===============  ==========  =====  ====================================
00     standard data    MACed       E 1 0 0  card info (number, status, expiry)
01     backup data      MACed       3 1 1 0  trip state + transaction counter
02     value            MACed       1 1 2 0  purse, free GetValue, limited credit
03     cyclic record    MACed       3 1 2 0  transaction log (10 x 20 bytes)
04     standard data    MACed       E 0 0 0  contracts (2 x 16 bytes)
=====  ===============  ==========  =====  ====================================

Key 0 application master (issuer), 1 validator, 2 top-up, 3 inspector. The
validator may write the card info so a gate can block a hotlisted card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .constants import (
    DEFAULT_BALANCE,
    DEFAULT_MAX_BALANCE,
    PICC_DF_NAME,
    TRANSIT_AID,
    TRANSIT_DF_NAME,
)
from .model import (
    FREE,
    AccessRights,
    Application,
    CommMode,
    DataFile,
    DesfireFile,
    FileType,
    Picc,
    RecordFile,
    ValueFile,
)
from .persist import CardStore
from .records import (
    LOG_RECORD_SIZE,
    CardInfo,
    CardStatus,
    Contract,
    TripState,
    encode_contracts,
)

if TYPE_CHECKING:
    from .keys import IssuerKeys

__all__ = ["PICC_DF_NAME", "TRANSIT_DF_NAME", "TRANSIT_AID", "FILE_CARD_INFO", "FILE_TRIP",
           "FILE_PURSE", "FILE_LOG", "FILE_CONTRACTS", "LOG_RECORDS", "CardProfile",
           "build_card", "personalize", "DEFAULT_MAX_BALANCE", "DEFAULT_BALANCE"]

FILE_CARD_INFO = 0x00
FILE_TRIP = 0x01
FILE_PURSE = 0x02
FILE_LOG = 0x03
FILE_CONTRACTS = 0x04
LOG_RECORDS = 10

#: PICC: master key changeable, application list free, create/delete needs the master key.
PICC_KEY_SETTINGS = 0x0B
#: Application: change keys with key 0, master changeable, file list free, configurable.
APP_KEY_SETTINGS = 0x0B


@dataclass(frozen=True)
class CardProfile:
    """What personalisation writes onto one card."""

    uid: bytes = field(default_factory=lambda: b"\x04" + os.urandom(6))
    card_number: int = 0
    balance: int = DEFAULT_BALANCE
    max_balance: int = DEFAULT_MAX_BALANCE
    status: CardStatus = CardStatus.ACTIVE
    expiry: int = 20991231
    contracts: tuple[Contract, ...] = ()

    def __post_init__(self) -> None:
        if len(self.uid) != 7:
            raise ValueError(f"a DESFire UID is 7 bytes, got {len(self.uid)}")
        if not 0 <= self.balance <= self.max_balance < 2**31:
            raise ValueError(f"need 0 <= balance ({self.balance}) <= max ({self.max_balance})")


def build_card(keys: IssuerKeys, profile: CardProfile) -> tuple[Picc, Application]:
    """The PICC and the transit application, keys already diversified for this card."""
    uid = profile.uid
    picc = Picc(uid, keys.picc_key(uid), 0, PICC_KEY_SETTINGS)
    app_keys = keys.application_keys(uid, TRANSIT_AID)
    number = profile.card_number or int.from_bytes(uid, "big")
    info = CardInfo(number, profile.status, profile.expiry)
    files: dict[int, DesfireFile] = {
        FILE_CARD_INFO: DataFile(FileType.STANDARD, CommMode.MACED, AccessRights(FREE, 1, 0, 0),
                                 info.encode()),
        FILE_TRIP: DataFile(FileType.BACKUP, CommMode.MACED, AccessRights(3, 1, 1, 0),
                            TripState().encode()),
        FILE_PURSE: ValueFile(CommMode.MACED, AccessRights(1, 1, 2, 0), 0, profile.max_balance,
                              profile.balance, limited_credit_enabled=True, free_get_value=True),
        FILE_LOG: RecordFile(FileType.CYCLIC_RECORD, CommMode.MACED, AccessRights(3, 1, 2, 0),
                             LOG_RECORD_SIZE, LOG_RECORDS + 1),
        FILE_CONTRACTS: DataFile(FileType.STANDARD, CommMode.MACED, AccessRights(FREE, 0, 0, 0),
                                 encode_contracts(list(profile.contracts))),
    }
    app = Application(TRANSIT_AID, APP_KEY_SETTINGS, app_keys, (0,) * len(app_keys), files,
                      TRANSIT_DF_NAME)
    return picc, app


def personalize(store: CardStore, keys: IssuerKeys, profile: CardProfile) -> Picc:
    """Replace whatever the store holds with a freshly personalised card (one transaction)."""
    picc, app = build_card(keys, profile)
    store.replace_all(picc, [app])
    return picc

"""Issuer script commands, card side (EMV Book 3 §6.5, Book 2 §9 secure messaging).

The issuer sends them in its online answer (templates 71/72); the terminal
passes each command to the card after the first cryptogram of the
transaction. Every command ends with an 8-byte MAC under the session key
of the card's SMI key (:mod:`hcekit_payment.script_sm`); a wrong MAC answers
6988 and changes nothing. The card keeps what the scripts change in its
store:

==========================  ===========  =======================================
command                     CLA INS P2   effect
==========================  ===========  =======================================
APPLICATION BLOCK           84 1E        SELECT answers 6283, every cryptogram AAC
APPLICATION UNBLOCK         84 18        undoes the block
CARD BLOCK                  84 16        SELECT answers 6A81 for good (this plugin's
                                         application: other plugins of the card stay)
PIN CHANGE/UNBLOCK          84 24 00     PIN try counter (9F17) back to the limit
PIN CHANGE/UNBLOCK          84 24 01     new PIN if the current PIN in the enciphered
                                         PIN data is right (else a try less, 63Cx)
PIN CHANGE/UNBLOCK          84 24 02     new PIN (enciphered PIN block), counter reset
PUT DATA                    04 DA        9F14 (GET DATA reads it back)
UPDATE RECORD               04 DC        the record (READ RECORD answers it from then on)
==========================  ===========  =======================================

Parameters, lengths and the MAC are checked before anything is written; a
change is one store transaction. Which choices are this card's own (PIN data
with the current PIN, the updatable files) is said in
:mod:`hcekit_payment.assumptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcekit import SW, AppContext, CommandApdu, IsoError
from hcekit.sm import SmError, unpad
from hcekit.store import PluginStore
from hcekit.tlv import TlvError, parse

from . import records, script_sm, tags
from .assumptions import (
    INITIAL_PIN,
    PIN_TRY_LIMIT,
    PUT_DATA_TAGS,
    SW_PIN_BLOCKED,
    SW_SCRIPT_MAC_WRONG,
    UPDATABLE_SFIS,
)
from .keys import BLOCK
from .layout import CardLayout

__all__ = ["SCRIPT_COMMANDS", "ScriptKeys", "run_script_command", "is_blocked",
           "is_card_blocked", "pin_tries", "current_pin", "put_data_value", "BLOCKED_KEY"]

CLA_SM_PROPRIETARY, CLA_SM_ISO = 0x84, 0x04
INS_APPLICATION_BLOCK, INS_APPLICATION_UNBLOCK, INS_CARD_BLOCK = 0x1E, 0x18, 0x16
INS_PIN_CHANGE_UNBLOCK, INS_PUT_DATA, INS_UPDATE_RECORD = 0x24, 0xDA, 0xDC
P2_PIN_UNBLOCK, P2_PIN_CHANGE_WITH_PIN, P2_PIN_CHANGE = 0x00, 0x01, 0x02
#: INS → the CLA it takes.
SCRIPT_COMMANDS = {INS_APPLICATION_BLOCK: CLA_SM_PROPRIETARY,
                   INS_APPLICATION_UNBLOCK: CLA_SM_PROPRIETARY,
                   INS_CARD_BLOCK: CLA_SM_PROPRIETARY,
                   INS_PIN_CHANGE_UNBLOCK: CLA_SM_PROPRIETARY, INS_PUT_DATA: CLA_SM_ISO,
                   INS_UPDATE_RECORD: CLA_SM_ISO}
#: READ RECORD's P2 b3-b1 = 100, "P1 is a record number" (UPDATE RECORD takes the same).
P2_RECORD_NUMBER = 0x04
#: A short APDU's data (255 bytes) less the MAC.
MAX_RECORD_LENGTH = 255 - script_sm.MAC_LENGTH

BLOCKED_KEY, PIN_KEY, PIN_TRIES_KEY, PUT_DATA_KEY = "blocked", "pin", "pin_tries", "put_data."
CARD_BLOCKED_KEY = "card_blocked"


@dataclass(frozen=True)
class ScriptKeys:
    """The card's secure messaging master keys and this transaction's MAC inputs."""

    icc_mk_smi: bytes
    icc_mk_smc: bytes
    #: The AC master key: bytes 5–8 mask the PIN data of a PIN CHANGE with the current PIN.
    icc_mk_ac: bytes
    atc: bytes
    #: The application cryptogram of the transaction's first cryptogram.
    cryptogram: bytes


def is_blocked(store: PluginStore) -> bool:
    return bool(store.get_int(BLOCKED_KEY, 0))


def is_card_blocked(store: PluginStore) -> bool:
    return bool(store.get_int(CARD_BLOCKED_KEY, 0))


def pin_tries(store: PluginStore) -> int:
    return store.get_int(PIN_TRIES_KEY, PIN_TRY_LIMIT)


def put_data_value(store: PluginStore, tag: int) -> bytes | None:
    return store.get(f"{PUT_DATA_KEY}{tag:X}")


def current_pin(store: PluginStore) -> str:
    stored = store.get(PIN_KEY)
    return INITIAL_PIN if stored is None else stored.decode("ascii")


def _check_parameters(command: CommandApdu, body: bytes, layout: CardLayout) -> None:
    """Everything that can be refused before the MAC is looked at (6A86 / 6A88 / 6700)."""
    if command.ins in (INS_APPLICATION_BLOCK, INS_APPLICATION_UNBLOCK, INS_CARD_BLOCK):
        if command.p1 or command.p2 or body:
            raise IsoError(SW.INCORRECT_P1P2 if command.p1 or command.p2 else SW.WRONG_LENGTH,
                           "APPLICATION BLOCK/UNBLOCK and CARD BLOCK take P1-P2 0000 and "
                           "only the MAC")
    elif command.ins == INS_PIN_CHANGE_UNBLOCK:
        if command.p1 or command.p2 not in (P2_PIN_UNBLOCK, P2_PIN_CHANGE_WITH_PIN,
                                            P2_PIN_CHANGE):
            raise IsoError(SW.INCORRECT_P1P2, "PIN CHANGE/UNBLOCK: P1 00; P2 00 (unblock), 01 "
                                              "(change with the current PIN) or 02 (change)")
        if (command.p2 == P2_PIN_UNBLOCK) == bool(body):
            raise IsoError(SW.WRONG_LENGTH, "PIN UNBLOCK carries only the MAC; PIN CHANGE "
                                            "enciphered PIN data and the MAC")
    elif command.ins == INS_UPDATE_RECORD:
        _check_record_target(command, layout)
        if not 0 < len(body) <= MAX_RECORD_LENGTH:
            raise IsoError(SW.WRONG_LENGTH, f"UPDATE RECORD takes a record of 1–"
                                            f"{MAX_RECORD_LENGTH} bytes and the MAC")
        try:
            objects = parse(body)
        except TlvError as exc:
            raise IsoError(SW.INCORRECT_DATA, f"UPDATE RECORD: the record is not BER-TLV: "
                                              f"{exc.message}") from None
        if len(objects) != 1 or objects[0].tag != tags.RECORD_TEMPLATE:
            raise IsoError(SW.INCORRECT_DATA, "UPDATE RECORD: a record is one template 70")
    else:
        tag = command.p1 << 8 | command.p2
        if tag not in PUT_DATA_TAGS:
            raise IsoError(SW.REFERENCED_DATA_NOT_FOUND, f"PUT DATA {tag:04X}: not writable")
        if len(body) != PUT_DATA_TAGS[tag]:
            raise IsoError(SW.WRONG_LENGTH, f"PUT DATA {tag:04X} takes {PUT_DATA_TAGS[tag]} "
                                            f"byte(s), got {len(body)}")


def _check_record_target(command: CommandApdu, layout: CardLayout) -> None:
    """UPDATE RECORD's P1-P2 name an existing record of an updatable file (as READ RECORD)."""
    sfi, number = command.p2 >> 3, command.p1
    if command.p2 & 0x07 != P2_RECORD_NUMBER or not 1 <= sfi <= 30 or number == 0:
        raise IsoError(SW.INCORRECT_P1P2, "UPDATE RECORD: P2 = SFI << 3 | 100, P1 a record "
                                          "number (1–254), SFI 1–30")
    if sfi not in layout.sfis:
        raise IsoError(SW.FILE_NOT_FOUND, f"UPDATE RECORD: no file with SFI {sfi}")
    if (sfi, number) not in layout.records:
        raise IsoError(SW.RECORD_NOT_FOUND, f"UPDATE RECORD: SFI {sfi} has no record {number}")
    if sfi not in UPDATABLE_SFIS:
        raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED,
                       f"UPDATE RECORD: the issuer may not rewrite SFI {sfi}")


def run_script_command(app: AppContext, command: CommandApdu, keys: ScriptKeys,
                       layout: CardLayout) -> str:
    """Verify and apply one script command; returns what it did (for the log)."""
    if not script_sm.MAC_LENGTH <= len(command.data) <= 255:
        raise IsoError(SW.WRONG_LENGTH, "an issuer script command is a short APDU whose data "
                                        "ends with an 8-byte MAC")
    body, mac = command.data[:-script_sm.MAC_LENGTH], command.data[-script_sm.MAC_LENGTH:]
    _check_parameters(command, body, layout)
    header = bytes((command.cla, command.ins, command.p1, command.p2, len(command.data)))
    sk_smi = script_sm.session_key(keys.icc_mk_smi, keys.cryptogram)
    if not script_sm.verify_mac(sk_smi, header, keys.atc, keys.cryptogram, body, mac):
        raise IsoError(SW_SCRIPT_MAC_WRONG, "issuer script MAC does not verify; nothing changed")
    store = app.store
    if command.ins == INS_PIN_CHANGE_UNBLOCK and command.p2 != P2_PIN_UNBLOCK:
        app.mark_sensitive()
        return _change_pin(store, keys, command.p2, body)
    with store.transaction():
        if command.ins == INS_APPLICATION_BLOCK:
            store.set_int(BLOCKED_KEY, 1)
            return "application blocked"
        if command.ins == INS_APPLICATION_UNBLOCK:
            store.set_int(BLOCKED_KEY, 0)
            return "application unblocked"
        if command.ins == INS_CARD_BLOCK:
            store.set_int(CARD_BLOCKED_KEY, 1)
            return "card blocked"
        if command.ins == INS_PIN_CHANGE_UNBLOCK:
            store.set_int(PIN_TRIES_KEY, PIN_TRY_LIMIT)
            return "PIN try counter reset"
        if command.ins == INS_UPDATE_RECORD:
            records.store_record(store, command.p2 >> 3, command.p1, body)
            return f"UPDATE RECORD SFI {command.p2 >> 3} record {command.p1}"
        tag = command.p1 << 8 | command.p2
        store.set(f"{PUT_DATA_KEY}{tag:X}", body)
        return f"PUT DATA {tag:04X}"


def _change_pin(store: PluginStore, keys: ScriptKeys, p2: int, enciphered: bytes) -> str:
    """P2 02: the new PIN. P2 01: the new PIN only when the current PIN unmasks it."""
    sk_smc = script_sm.session_key(keys.icc_mk_smc, keys.cryptogram)
    if p2 == P2_PIN_CHANGE:
        pin = _new_pin(sk_smc, enciphered)
    else:
        tries = pin_tries(store)
        if tries == 0:
            raise IsoError(SW_PIN_BLOCKED, "PIN CHANGE with the current PIN: the PIN try "
                                           "counter is 0; nothing changed")
        try:
            block = script_sm.decipher_counted(sk_smc, enciphered)
        except ValueError as exc:
            raise IsoError(SW.INCORRECT_DATA, f"PIN CHANGE: enciphered PIN data: {exc}; "
                                              "nothing changed") from None
        if len(block) != BLOCK:
            raise IsoError(SW.INCORRECT_DATA, f"PIN CHANGE: the PIN data is {len(block)} bytes, "
                                              f"not {BLOCK}; nothing changed")
        try:
            pin = script_sm.new_pin_from_block(keys.icc_mk_ac, block, current_pin(store))
        except ValueError:
            with store.transaction():
                store.set_int(PIN_TRIES_KEY, tries - 1)
            raise IsoError(SW.VERIFICATION_FAILED | 0xC0 | (tries - 1),
                           f"PIN CHANGE: wrong current PIN, {tries - 1} tries left") from None
    with store.transaction():
        store.set(PIN_KEY, pin.encode("ascii"))
        store.set_int(PIN_TRIES_KEY, PIN_TRY_LIMIT)
    return "PIN changed, try counter reset"


def _new_pin(sk_smc: bytes, enciphered: bytes) -> str:
    try:
        plain = script_sm.decipher(sk_smc, enciphered)
        block = plain if len(plain) == BLOCK else unpad(plain, BLOCK)
        return script_sm.pin_from_block(block)
    except (ValueError, SmError):  # SmError: the padding of a two-block PIN field
        raise IsoError(SW.INCORRECT_DATA, "the enciphered PIN block does not decipher to an "
                                          "ISO 9564 format 2 block; nothing changed") from None

"""The DESFire EV1 profile over loopback: commands, status words, secure messaging, transactions."""

from __future__ import annotations

import pytest
from hcekit import SW, CommandApdu
from hcekit.sm import zero_pad
from hcekit.store import SqliteStore
from hcekit_transit import PICC_DF_NAME, TRANSIT_AID, TRANSIT_DF_NAME
from hcekit_transit.crypto import BLOCK, crc32
from hcekit_transit.layout import FILE_CARD_INFO, FILE_LOG, FILE_PURSE, FILE_TRIP, CardProfile
from hcekit_transit.model import CommMode
from hcekit_transit.picc import VERSION_HW, VERSION_SW, Ins
from hcekit_transit.reader import ReaderError
from hcekit_transit.records import LOG_RECORD_SIZE, TripState
from hcekit_transit.status import DfStatus

from .conftest import UID, RigFactory, TransitRig

NEW_APP = bytes.fromhex("A1B2C3")
ZERO_KEY = bytes(16)


def status_of(excinfo: pytest.ExceptionInfo[ReaderError]) -> DfStatus:
    assert excinfo.value.status is not None
    return DfStatus(excinfo.value.status)


def new_app(t: TransitRig, *, settings: int = 0x0F, keys: int = 3) -> None:
    """Create an empty AES application with all-zero keys and enter it authenticated as key 0."""
    r = t.reader
    r.select(PICC_DF_NAME)
    r.authenticate(0, t.keys.picc_key(t.uid))
    r.command(Ins.CREATE_APPLICATION, NEW_APP + bytes((settings, 0x80 | keys)))
    r.select_application(NEW_APP)
    r.authenticate(0, ZERO_KEY)


# -- wrapping and routing -----------------------------------------------------------------------


def test_iso_wrapping_and_get_version_frames(transit: TransitRig) -> None:
    term = transit.rig.terminal
    assert term.select(PICC_DF_NAME).sw == SW.NO_ERROR
    first = term.transmit(CommandApdu(0x90, Ins.GET_VERSION, 0, 0, b"", 256))
    assert (first.data, first.sw) == (VERSION_HW, 0x91AF)
    second = term.transmit(CommandApdu(0x90, Ins.ADDITIONAL_FRAME, 0, 0, b"", 256))
    assert (second.data, second.sw) == (VERSION_SW, 0x91AF)
    third = term.transmit(CommandApdu(0x90, Ins.ADDITIONAL_FRAME, 0, 0, b"", 256))
    assert third.sw == 0x9100 and third.data[:7] == UID and len(third.data) == 14


def test_non_desfire_commands_get_iso_status_words(transit: TransitRig) -> None:
    term = transit.rig.terminal
    term.select(TRANSIT_DF_NAME)
    assert term.transmit("00B0000000").sw == SW.INS_NOT_SUPPORTED
    assert term.transmit("80600000 00").sw == SW.CLA_NOT_SUPPORTED
    assert term.transmit("90600100 00").sw == SW.INCORRECT_P1P2


@pytest.mark.parametrize("ins", [0x0A, 0x1A, 0x71, 0x3C, 0x00, 0xF6])
def test_unknown_and_legacy_commands_answer_illegal_command(transit: TransitRig, ins: int) -> None:
    transit.reader.select(TRANSIT_DF_NAME)
    with pytest.raises(ReaderError) as exc:
        transit.reader.exchange(ins, b"\x00")
    assert status_of(exc) is DfStatus.ILLEGAL_COMMAND


def test_additional_frame_without_anything_pending(transit: TransitRig) -> None:
    transit.reader.select(TRANSIT_DF_NAME)
    with pytest.raises(ReaderError) as exc:
        transit.reader.exchange(Ins.ADDITIONAL_FRAME)
    assert status_of(exc) is DfStatus.ILLEGAL_COMMAND


def test_transit_df_name_selects_the_transit_application(transit: TransitRig) -> None:
    r = transit.open_app()
    assert r.file_ids() == bytes((0, 1, 2, 3, 4))
    r.select(PICC_DF_NAME)
    with pytest.raises(ReaderError) as exc:
        r.file_ids()
    assert status_of(exc) is DfStatus.PERMISSION_DENIED  # no files at the PICC level


# -- authentication ---------------------------------------------------------------------------------


def test_aes_authentication_with_diversified_keys(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    assert r.authenticated and transit.plugin.card is not None
    assert transit.plugin.card.authenticated_key == 1
    r.select(PICC_DF_NAME)
    r.authenticate(0, transit.keys.picc_key(UID))
    assert transit.plugin.card.authenticated_key == 0


def test_wrong_key_is_refused_and_nothing_changes(transit: TransitRig) -> None:
    before = transit.snapshot()
    r = transit.open_app()
    with pytest.raises(ReaderError) as exc:
        r.authenticate(1, transit.key("topup"))  # key 2's value for key 1
    assert status_of(exc) is DfStatus.AUTHENTICATION_ERROR
    assert transit.plugin.card is not None and transit.plugin.card.authenticated_key is None
    with pytest.raises(ReaderError) as exc:
        r.debit(FILE_PURSE, 100, CommMode.MACED)
    assert status_of(exc) is DfStatus.AUTHENTICATION_ERROR
    assert transit.snapshot() == before


def test_undiversified_master_key_does_not_authenticate(transit: TransitRig) -> None:
    r = transit.open_app()
    with pytest.raises(ReaderError):
        r.authenticate(1, transit.keys.validator)


def test_missing_key_number(transit: TransitRig) -> None:
    r = transit.open_app()
    with pytest.raises(ReaderError) as exc:
        r.authenticate(9, ZERO_KEY)
    assert status_of(exc) is DfStatus.NO_SUCH_KEY


def test_replayed_authentication_token_is_refused(transit: TransitRig) -> None:
    """Record a successful second pass; replaying it against a new challenge fails."""
    seen: list[bytes] = []
    term = transit.rig.terminal
    term.on_exchange = lambda cmd, resp: seen.append(cmd)
    transit.open_app("validator")
    token = next(c for c in seen if c[1] == Ins.ADDITIONAL_FRAME and len(c) > 30)
    term.select(TRANSIT_DF_NAME)
    assert term.transmit(CommandApdu(0x90, Ins.AUTHENTICATE_AES, 0, 0, b"\x01", 256)).sw == 0x91AF
    assert term.transmit(token).sw == 0x9100 | DfStatus.AUTHENTICATION_ERROR


# -- secure messaging -------------------------------------------------------------------------------


def test_tampered_mac_is_refused_and_nothing_changes(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    before = transit.snapshot()
    assert r._cipher is not None
    payload = (150).to_bytes(4, "little")
    mac = bytearray(r._cipher.mac(bytes((Ins.DEBIT, FILE_PURSE)) + payload))
    mac[0] ^= 0x01
    with pytest.raises(ReaderError) as exc:
        r.exchange(Ins.DEBIT, bytes((FILE_PURSE,)) + payload + bytes(mac))
    assert status_of(exc) is DfStatus.INTEGRITY_ERROR
    assert transit.plugin.card is not None
    assert transit.plugin.card.authenticated_key is None  # the error ended the session
    r.exchange(Ins.COMMIT_TRANSACTION)  # nothing pending to commit
    assert transit.snapshot() == before


def test_replayed_maced_command_is_refused(transit: TransitRig) -> None:
    """The chained IV makes a captured MACed debit worthless a second time."""
    seen: list[bytes] = []
    transit.rig.terminal.on_exchange = lambda cmd, resp: seen.append(cmd)
    r = transit.open_app("validator")
    r.debit(FILE_PURSE, 100, CommMode.MACED)
    r.commit()
    debit = next(c for c in seen if c[1] == Ins.DEBIT)
    after_first = transit.snapshot()
    response = transit.rig.terminal.transmit(debit)
    assert response.sw == 0x9100 | DfStatus.INTEGRITY_ERROR
    r2 = transit.open_app("validator")  # even in a fresh session
    assert r2.get_value(FILE_PURSE, CommMode.MACED) == 1900
    assert transit.rig.terminal.transmit(debit).sw == 0x9100 | DfStatus.INTEGRITY_ERROR
    assert transit.snapshot() == after_first


def test_tampered_enciphered_write_is_refused(transit: TransitRig) -> None:
    new_app(transit)
    r = transit.reader
    r.command(Ins.CREATE_STD_DATA_FILE, bytes((1, 0x03, 0x00, 0x00)) + (32).to_bytes(3, "little"))
    r.write_data(1, 0, b"secret data here", CommMode.FULL)
    assert r._cipher is not None
    header = bytes((1,)) + (0).to_bytes(3, "little") + (16).to_bytes(3, "little")
    body = bytearray(r._cipher.encrypt(zero_pad(b"evil data here!!" + crc32(
        bytes((Ins.WRITE_DATA,)) + header + b"evil data here!!"), BLOCK)))
    body[3] ^= 0xFF
    with pytest.raises(ReaderError) as exc:
        r.exchange(Ins.WRITE_DATA, header + bytes(body))
    assert status_of(exc) is DfStatus.INTEGRITY_ERROR
    r.authenticate(0, ZERO_KEY)
    assert r.read_data(1, 0, 16, CommMode.FULL) == b"secret data here"


@pytest.mark.parametrize("mode", list(CommMode))
def test_standard_file_in_each_communication_mode(transit: TransitRig, mode: CommMode) -> None:
    new_app(transit)
    r = transit.reader
    # access: read key 1, write key 1, read&write key 0, change key 0
    r.command(Ins.CREATE_STD_DATA_FILE, bytes((5, mode, 0x00, 0x11)) + (40).to_bytes(3, "little"))
    assert r.file_settings(5) == bytes((0, mode, 0x00, 0x11)) + (40).to_bytes(3, "little")
    data = bytes(range(1, 41))
    r.write_data(5, 0, data, mode)
    assert r.read_data(5, 0, 0, mode) == data
    assert r.read_data(5, 10, 5, mode) == data[10:15]
    r.authenticate(1, ZERO_KEY)
    r.write_data(5, 38, b"\xee\xff", mode)
    assert r.read_data(5, 30, 10, mode) == data[30:38] + b"\xee\xff"


def test_long_read_is_split_into_frames(transit: TransitRig) -> None:
    new_app(transit)
    r = transit.reader
    r.command(Ins.CREATE_STD_DATA_FILE, bytes((2, 0x03, 0x00, 0x00)) + (200).to_bytes(3, "little"))
    frames: list[bytes] = []
    transit.rig.terminal.on_exchange = lambda cmd, resp: frames.append(resp)
    data = bytes(range(200))
    for offset in range(0, 200, 50):
        r.write_data(2, offset, data[offset:offset + 50], CommMode.FULL)
    frames.clear()
    assert r.read_data(2, 0, 0, CommMode.FULL) == data
    assert len(frames) == 4 and [f[-2:] for f in frames] == [b"\x91\xaf"] * 3 + [b"\x91\x00"]


# -- application and key management ---------------------------------------------------------------


def test_application_lifecycle(transit: TransitRig) -> None:
    new_app(transit, keys=2)
    r = transit.reader
    assert r.command(Ins.GET_KEY_SETTINGS) == bytes((0x0F, 0x82))
    r.select(PICC_DF_NAME)
    r.authenticate(0, transit.keys.picc_key(UID))
    assert r.application_ids() == sorted([TRANSIT_AID, NEW_APP])
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_APPLICATION, NEW_APP + bytes((0x0F, 0x82)))
    assert status_of(exc) is DfStatus.DUPLICATE_ERROR
    r.authenticate(0, transit.keys.picc_key(UID))
    r.command(Ins.DELETE_APPLICATION, NEW_APP)
    assert r.application_ids() == [TRANSIT_AID]
    with pytest.raises(ReaderError) as exc:
        r.select_application(NEW_APP)
    assert status_of(exc) is DfStatus.APPLICATION_NOT_FOUND


@pytest.mark.parametrize("key_byte, status", [
    (0x02, DfStatus.PARAMETER_ERROR),   # 2K3DES application: legacy key types not supported
    (0x8F, DfStatus.PARAMETER_ERROR),   # 15 keys
    (0x80, DfStatus.PARAMETER_ERROR),   # no key
])
def test_create_application_parameter_errors(transit: TransitRig, key_byte: int,
                                             status: DfStatus) -> None:
    r = transit.reader
    r.select(PICC_DF_NAME)
    r.authenticate(0, transit.keys.picc_key(UID))
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_APPLICATION, NEW_APP + bytes((0x0F, key_byte)))
    assert status_of(exc) is status


def test_create_application_needs_the_picc_master_key(transit: TransitRig) -> None:
    r = transit.reader
    r.select(PICC_DF_NAME)
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_APPLICATION, NEW_APP + bytes((0x0F, 0x81)))
    assert status_of(exc) is DfStatus.AUTHENTICATION_ERROR


def test_change_keys(transit: TransitRig) -> None:
    new_app(transit)
    r = transit.reader
    k1, k0 = bytes(range(16)), bytes(range(16, 32))
    r.change_key(1, k1, 7, ZERO_KEY)          # another key: XOR form + CRC of the new key
    assert r.command(Ins.GET_KEY_VERSION, b"\x01") == b"\x07"
    r.change_key(0, k0, 3)                    # the session's own key: session ends
    assert not r.authenticated
    with pytest.raises(ReaderError):
        r.authenticate(0, ZERO_KEY)
    r.authenticate(0, k0)
    r.authenticate(1, k1)


def test_change_key_with_a_wrong_old_key_is_an_integrity_error(transit: TransitRig) -> None:
    new_app(transit)
    before = transit.snapshot()
    with pytest.raises(ReaderError) as exc:
        transit.reader.change_key(1, bytes(range(16)), 1, old_key=b"\x01" * 16)
    assert status_of(exc) is DfStatus.INTEGRITY_ERROR
    assert transit.snapshot() == before


def test_picc_master_key_change_and_format(transit: TransitRig) -> None:
    r = transit.reader
    r.select(PICC_DF_NAME)
    r.authenticate(0, transit.keys.picc_key(UID))
    new = bytes(range(100, 116))
    r.change_key(0, new, 1, key_byte=0x80)
    r.authenticate(0, new)
    r.command(Ins.FORMAT_PICC)
    assert r.application_ids() == []


def test_file_management(transit: TransitRig) -> None:
    new_app(transit)
    r = transit.reader
    r.command(Ins.CREATE_BACKUP_DATA_FILE, bytes((1, 0, 0xEE, 0xEE)) + (8).to_bytes(3, "little"))
    r.command(Ins.CREATE_VALUE_FILE, bytes((2, 0, 0xEE, 0xEE)) + (0).to_bytes(4, "little")
              + (1000).to_bytes(4, "little") + (10).to_bytes(4, "little") + b"\x01")
    r.command(Ins.CREATE_LINEAR_RECORD_FILE, bytes((3, 0, 0xEE, 0xEE)) + (4).to_bytes(3, "little")
              + (2).to_bytes(3, "little"))
    assert r.file_ids() == bytes((1, 2, 3))
    assert r.file_settings(2)[:2] == bytes((2, 0))
    assert r.file_settings(3)[-3:] == (0).to_bytes(3, "little")
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_STD_DATA_FILE, bytes((1, 0, 0xEE, 0xEE)) + (8).to_bytes(3, "little"))
    assert status_of(exc) is DfStatus.DUPLICATE_ERROR
    r.authenticate(0, ZERO_KEY)
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_STD_DATA_FILE, bytes((40, 0, 0xEE, 0xEE)) + (8).to_bytes(3, "little"))
    assert status_of(exc) is DfStatus.PARAMETER_ERROR
    r.authenticate(0, ZERO_KEY)
    with pytest.raises(ReaderError) as exc:
        r.command(Ins.CREATE_STD_DATA_FILE, bytes((9, 0, 0xEE, 0xEE)) + (9000).to_bytes(3, "little"))
    assert status_of(exc) is DfStatus.OUT_OF_EEPROM
    r.authenticate(0, ZERO_KEY)
    r.command(Ins.DELETE_FILE, b"\x02")
    assert r.file_ids() == bytes((1, 3))
    with pytest.raises(ReaderError) as exc:
        r.file_settings(2)
    assert status_of(exc) is DfStatus.FILE_NOT_FOUND
    # linear record file: two records, then full
    r.write_record(3, 0, b"abcd", CommMode.PLAIN)
    r.commit()
    r.write_record(3, 0, b"efgh", CommMode.PLAIN)
    r.commit()
    with pytest.raises(ReaderError) as exc:
        r.write_record(3, 0, b"ijkl", CommMode.PLAIN)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    assert r.read_records(3, 4, CommMode.PLAIN) == [b"abcd", b"efgh"]
    r.command(Ins.CLEAR_RECORD_FILE, b"\x03")
    r.commit()
    with pytest.raises(ReaderError) as exc:
        r.read_records(3, 4, CommMode.PLAIN)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR


# -- value files ------------------------------------------------------------------------------------


def test_value_file_limits(transit: TransitRig) -> None:
    before = transit.snapshot()
    r = transit.open_app("validator")
    with pytest.raises(ReaderError) as exc:
        r.debit(FILE_PURSE, 2001, CommMode.MACED)  # balance 2000, lower limit 0
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    r = transit.open_app("validator")
    with pytest.raises(ReaderError) as exc:
        r.debit(FILE_PURSE, -5, CommMode.MACED)
    assert status_of(exc) is DfStatus.PARAMETER_ERROR
    r = transit.open_app("topup")
    with pytest.raises(ReaderError) as exc:
        r.credit(FILE_PURSE, 48001, CommMode.MACED)  # upper limit 50000
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    r = transit.open_app("validator")
    with pytest.raises(ReaderError) as exc:
        r.credit(FILE_PURSE, 10, CommMode.MACED)  # credit needs the read&write key (2)
    assert status_of(exc) is DfStatus.AUTHENTICATION_ERROR
    assert transit.snapshot() == before


def test_debits_accumulate_and_apply_on_commit(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    r.debit(FILE_PURSE, 300, CommMode.MACED)
    r.debit(FILE_PURSE, 200, CommMode.MACED)
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 2000  # GetValue shows the committed value
    with pytest.raises(ReaderError):
        r.debit(FILE_PURSE, 1501, CommMode.MACED)  # 2000 - 500 - 1501 < 0
    r = transit.open_app("validator")
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 2000  # the error discarded the transaction
    r.debit(FILE_PURSE, 300, CommMode.MACED)
    r.commit()
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 1700


def test_limited_credit_gives_back_at_most_the_last_debits(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    r.debit(FILE_PURSE, 400, CommMode.MACED)
    r.commit()
    with pytest.raises(ReaderError) as exc:
        r.limited_credit(FILE_PURSE, 401, CommMode.MACED)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    r = transit.open_app("validator")
    r.limited_credit(FILE_PURSE, 400, CommMode.MACED)
    r.commit()
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 2000
    with pytest.raises(ReaderError):
        r.limited_credit(FILE_PURSE, 1, CommMode.MACED)


def test_free_get_value_is_plain_without_authentication(transit: TransitRig) -> None:
    r = transit.open_app()
    assert r.get_value(FILE_PURSE, CommMode.PLAIN) == 2000
    with pytest.raises(ReaderError) as exc:
        r.read_data(FILE_TRIP, 0, 0, CommMode.PLAIN)
    assert status_of(exc) is DfStatus.AUTHENTICATION_ERROR


# -- transactions -------------------------------------------------------------------------------------


def _stage_fare(r: object) -> None:
    from hcekit_transit.reader import DesfireReader

    assert isinstance(r, DesfireReader)
    r.debit(FILE_PURSE, 250, CommMode.MACED)
    r.write_data(FILE_TRIP, 0, TripState(True, 1, 99, 1, 99, 1).encode(), CommMode.MACED)
    r.write_record(FILE_LOG, 0, b"L" * LOG_RECORD_SIZE, CommMode.MACED)


def test_abort_transaction_discards_everything(transit: TransitRig) -> None:
    before = transit.snapshot()
    r = transit.open_app("validator")
    _stage_fare(r)
    r.abort()
    r.commit()  # nothing left to commit
    assert transit.snapshot() == before


@pytest.mark.parametrize("interruption", ["field_off", "select", "deselect"])
def test_interrupted_tap_leaves_the_old_state(transit: TransitRig, interruption: str) -> None:
    before = transit.snapshot()
    r = transit.open_app("validator")
    _stage_fare(r)
    if interruption == "field_off":
        transit.retap()
    elif interruption == "select":
        r.select_application(TRANSIT_AID)
    else:
        transit.rig.terminal.select(PICC_DF_NAME)
    r = transit.open_app("validator")
    r.commit()
    assert transit.snapshot() == before
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 2000


def test_commit_applies_backup_value_and_record_files_together(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    _stage_fare(r)
    r.commit()
    r = transit.open_app("inspector")
    assert r.get_value(FILE_PURSE, CommMode.MACED) == 1750
    assert TripState.decode(r.read_data(FILE_TRIP, 0, 0, CommMode.MACED)).counter == 1
    assert r.read_records(FILE_LOG, LOG_RECORD_SIZE, CommMode.MACED) == [b"L" * LOG_RECORD_SIZE]


def test_cyclic_log_keeps_the_newest_ten(transit: TransitRig) -> None:
    r = transit.open_app("validator")
    for i in range(13):
        r.write_record(FILE_LOG, 0, bytes((i,)) * LOG_RECORD_SIZE, CommMode.MACED)
        r.commit()
    r = transit.open_app("inspector")
    records = r.read_records(FILE_LOG, LOG_RECORD_SIZE, CommMode.MACED)
    assert [rec[0] for rec in records] == list(range(3, 13))
    newest_two = r.read_records(FILE_LOG, LOG_RECORD_SIZE, CommMode.MACED, offset=0, count=2)
    assert [rec[0] for rec in newest_two] == [11, 12]
    with pytest.raises(ReaderError) as exc:
        r.read_records(FILE_LOG, LOG_RECORD_SIZE, CommMode.MACED, offset=10)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR


def test_out_of_range_reads_and_writes(transit: TransitRig) -> None:
    r = transit.open_app("app_master")
    with pytest.raises(ReaderError) as exc:
        r.read_data(FILE_CARD_INFO, 10, 7, CommMode.MACED)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    r = transit.open_app("app_master")
    with pytest.raises(ReaderError) as exc:
        r.write_data(FILE_CARD_INFO, 15, b"xx", CommMode.MACED)
    assert status_of(exc) is DfStatus.BOUNDARY_ERROR
    r = transit.open_app("app_master")
    with pytest.raises(ReaderError) as exc:
        r.read_data(0x1F, 0, 0, CommMode.PLAIN)
    assert status_of(exc) is DfStatus.FILE_NOT_FOUND
    r = transit.open_app("app_master")
    with pytest.raises(ReaderError) as exc:
        r.exchange(Ins.READ_DATA, b"\x00\x00")
    assert status_of(exc) is DfStatus.LENGTH_ERROR
    r = transit.open_app("app_master")
    with pytest.raises(ReaderError) as exc:
        r.get_value(FILE_CARD_INFO, CommMode.MACED)
    assert status_of(exc) is DfStatus.PARAMETER_ERROR


# -- persistence -------------------------------------------------------------------------------------


def test_state_survives_a_restart_on_sqlite(make_rig: RigFactory, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "card.sqlite"
    first = make_rig(store=SqliteStore(path), profile=CardProfile(uid=UID, balance=900))
    r = first.open_app("validator")
    r.debit(FILE_PURSE, 125, CommMode.MACED)
    r.commit()
    first.rig.terminal.disconnect()
    first.rig.close()
    first.store.close()
    second = make_rig(store=SqliteStore(path))
    assert second.uid == UID
    assert second.open_app().get_value(FILE_PURSE, CommMode.PLAIN) == 775


@pytest.mark.parametrize("mode", list(CommMode))
def test_long_writes_arrive_in_native_frames(transit: TransitRig, mode: CommMode) -> None:
    """A reader limited to short frames sends WriteData in pieces; the card reassembles them."""
    new_app(transit)
    r = transit.reader
    r.command(Ins.CREATE_STD_DATA_FILE, bytes((6, mode, 0x00, 0x00)) + (120).to_bytes(3, "little"))
    r.command(Ins.CREATE_CYCLIC_RECORD_FILE, bytes((7, mode, 0x00, 0x00))
              + (90).to_bytes(3, "little") + (3).to_bytes(3, "little"))
    sent: list[bytes] = []
    transit.rig.terminal.on_exchange = lambda cmd, resp: sent.append(resp[-2:])
    r.frame_size = 40
    data = bytes(range(7, 127))
    r.write_data(6, 0, data, mode)
    r.write_record(7, 0, data[:90], mode)
    r.commit()
    assert sent.count(b"\x91\xaf") >= 4
    r.frame_size = None
    assert r.read_data(6, 0, 0, mode) == data
    assert r.read_records(7, 90, mode) == [data[:90]]


def test_an_interrupted_framed_write_changes_nothing(transit: TransitRig) -> None:
    new_app(transit)
    r = transit.reader
    r.command(Ins.CREATE_STD_DATA_FILE, bytes((6, 1, 0x00, 0x00)) + (100).to_bytes(3, "little"))
    before = transit.snapshot()
    header = bytes((6,)) + (0).to_bytes(3, "little") + (100).to_bytes(3, "little")
    assert r._wire(Ins.WRITE_DATA, header + bytes(30))[0] == DfStatus.ADDITIONAL_FRAME
    assert r._wire(Ins.GET_KEY_SETTINGS, b"")[0] == DfStatus.OPERATION_OK  # another command
    # ... dropped the half-received write: its continuation has nothing to continue
    assert r._wire(Ins.ADDITIONAL_FRAME, bytes(70))[0] == DfStatus.ILLEGAL_COMMAND
    assert transit.snapshot() == before


def test_a_failing_store_answers_eeprom_error_and_keeps_the_old_state(
        make_rig: RigFactory) -> None:
    from hcekit.errors import StoreError
    from hcekit.store import MemoryStore

    class FlakyStore(MemoryStore):
        """A backend failing as the store promises it fails: with StoreError."""

        fail = False

        def _set(self, ns: str, key: str, value: bytes) -> None:
            if self.fail:
                raise StoreError("disk full")
            super()._set(ns, key, value)

    store = FlakyStore()
    t = make_rig(store=store)
    before = t.snapshot()
    r = t.open_app("validator")
    r.debit(FILE_PURSE, 500, CommMode.MACED)
    store.fail = True
    with pytest.raises(ReaderError) as exc:
        r.commit()
    assert status_of(exc) is DfStatus.EEPROM_ERROR
    store.fail = False
    assert t.snapshot() == before
    assert t.open_app().get_value(FILE_PURSE, CommMode.PLAIN) == 2000

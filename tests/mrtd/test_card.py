"""The eMRTD chip end to end over loopback: BAC, secure messaging through the core seam, LDS reads.

Card + LoopbackHost + Terminal, the inspection system side driven through
:func:`hcekit_mrtd.read_document` / :class:`~hcekit.sm.TerminalSession`;
every claim is checked on the wire bytes or the card's own state.
"""

from __future__ import annotations

import pytest
from hcekit import SW, CommandApdu
from hcekit.sm import AuthenticationError, SmError, TerminalSession, mutual_authenticate
from hcekit.sm.bac import bac_terminal
from hcekit_mrtd import (
    EF_COM,
    EF_DG1,
    EF_DG2,
    EMRTD_AID,
    SPECIMEN,
    BacFailed,
    Td3Mrz,
    read_document,
    read_file,
)
from hcekit_mrtd.lds import DG2_PLACEHOLDER_LABEL, dg1_mrz_text, parse_ef_com

from .conftest import Rig

SELECT_APP = CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
WRONG_MRZ = Td3Mrz.create(document_number="L898902C3", issuing_state="UTO", surname="X",
                          given_names="", nationality="UTO", date_of_birth="740813", sex="F",
                          date_of_expiry="120415").bac_information


def bac(rig: Rig, info: str = SPECIMEN.bac_information) -> TerminalSession:
    assert rig.terminal.transmit(SELECT_APP).sw == SW.NO_ERROR
    return mutual_authenticate(rig.terminal, bac_terminal(info))


def test_bac_then_lds_over_secure_messaging(rig: Rig) -> None:
    document = read_document(rig.terminal, SPECIMEN.bac_information, groups=(1, 2))
    files = rig.plugin.files
    assert document.files == {fid: files[fid].content for fid in (0x011E, 0x0101, 0x0102)}
    assert document.mrz == SPECIMEN and (document.lds_version, document.data_groups) == ("0108",
                                                                                       [1, 2])
    # Part 10 structure: EF.COM 60{5F01,5F36,5C}, DG1 61{5F1F 88 chars}, DG2 75{7F61}.
    assert parse_ef_com(files[EF_COM.fid].content) == ("0108", "040000", [1, 2])
    assert dg1_mrz_text(files[EF_DG1.fid].content) == SPECIMEN.text
    assert files[EF_DG2.fid].content[:1] == b"\x75" and DG2_PLACEHOLDER_LABEL in \
        files[EF_DG2.fid].content
    # On the wire: SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE in plain, then only
    # SM-classed commands (GET RESPONSE aside): the plugin never saw them protected.
    assert [c[1] for c, _ in rig.wire[:3]] == [0xA4, 0x84, 0x82]
    after = [c for c, _ in rig.wire[3:] if c[1] != 0xC0]
    assert after and all(c[0] == 0x0C for c in after)
    assert rig.channel_open()


def test_exchanges_carrying_key_material_are_redacted(rig: Rig) -> None:
    read_document(rig.terminal, SPECIMEN.bac_information)
    by_ins = {r.command[1]: r for r in rig.records if r.command[0] == 0x00}
    assert not by_ins[0x84].sensitive  # a bare nonce
    assert by_ins[0x82].sensitive      # cryptograms of K.IFD / K.ICC
    protected = [r for r in rig.records if r.command[0] == 0x0C]
    assert protected and all(r.sensitive for r in protected)


def test_plain_access_before_bac_is_refused(rig: Rig) -> None:
    assert rig.terminal.transmit(SELECT_APP).ok
    for command in ("00A4020C02011E", "00A4020C020101", "00B0000004", "00B0810004"):
        assert rig.terminal.transmit(command).sw == SW.SECURITY_STATUS_NOT_SATISFIED, command
    assert rig.terminal.transmit("00B1000004").sw == SW.INS_NOT_SUPPORTED
    assert len(rig.terminal.transmit("0084000008").data) == 8  # BAC itself is open
    assert not rig.channel_open()


def test_wrong_mrz_is_refused_and_opens_nothing(rig: Rig) -> None:
    with pytest.raises(AuthenticationError, match="6300"):
        bac(rig, WRONG_MRZ)
    external, answer = rig.wire[-1]
    assert external[1] == 0x82 and answer == SW.VERIFICATION_FAILED.to_bytes(2, "big")
    assert not rig.channel_open()
    assert rig.terminal.transmit("00B0000004").sw == SW.SECURITY_STATUS_NOT_SATISFIED
    # The challenge was used up: the same answer again, without a new challenge, is refused.
    assert rig.terminal.transmit(external).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
    with pytest.raises(BacFailed, match="Basic Access Control failed"):
        read_document(rig.terminal, WRONG_MRZ)
    # The right MRZ still works on the same tap.
    assert read_document(rig.terminal, SPECIMEN.bac_information).mrz == SPECIMEN


def _last_protected(rig: Rig) -> bytes:
    return next(c for c, _ in reversed(rig.wire) if c[0] == 0x0C)


@pytest.mark.parametrize("where", ["header", "cryptogram", "mac"])
def test_tampered_apdu_gets_6988_and_drops_the_session(rig: Rig, where: str) -> None:
    session = bac(rig)
    wire = bytearray(session.wrap_command(CommandApdu.from_hex("00A4020C020101")).to_bytes())
    index = {"header": 2, "cryptogram": 8, "mac": len(wire) - 3}[where]
    wire[index] ^= 0x01
    answer = rig.terminal.transmit(bytes(wire))
    assert answer.sw == SW.SM_DATA_OBJECTS_INCORRECT and not answer.data
    assert not rig.channel_open()
    assert rig.terminal.transmit("00B0000004").sw == SW.SECURITY_STATUS_NOT_SATISFIED
    with pytest.raises(SmError):  # a correctly protected command finds no session either
        session.transmit(rig.terminal, "00A4020C020101")
    assert rig.wire[-1][1] == SW.SECURITY_STATUS_NOT_SATISFIED.to_bytes(2, "big")


def test_replayed_apdu_is_rejected(rig: Rig) -> None:
    session = bac(rig)
    assert session.transmit(rig.terminal, "00A4020C020101").ok
    assert rig.terminal.transmit(_last_protected(rig)).sw == SW.SM_DATA_OBJECTS_INCORRECT
    assert not rig.channel_open()
    assert rig.terminal.transmit("00B0000004").sw == SW.SECURITY_STATUS_NOT_SATISFIED


def test_a_plain_command_inside_the_session_ends_it(rig: Rig) -> None:
    bac(rig)
    assert rig.terminal.transmit("00B0000004").sw == SW.SM_DATA_OBJECTS_MISSING
    assert not rig.channel_open()


@pytest.mark.parametrize("chunk", [0x20, 0xDF, 0xFF])
def test_long_data_group_read_across_offsets(rig: Rig, chunk: int) -> None:
    session = bac(rig)
    dg2 = rig.plugin.files[EF_DG2.fid].content
    assert read_file(session, rig.terminal, EF_DG2.fid, chunk=chunk) == dg2
    reads = [c for c, _ in rig.wire if c[:2] == b"\x0c\xb0"]
    offsets = [int.from_bytes(c[2:4], "big") for c in reads]
    assert offsets == sorted(offsets) and len(offsets) == 1 + -(-(len(dg2) - 4) // chunk)
    if chunk == 0xFF:  # the protected answer outgrows 256 bytes: the core chains it (61xx)
        assert any(r[-2] == 0x61 for _, r in rig.wire)


def test_read_binary_edges_over_sm(rig: Rig) -> None:
    session = bac(rig)
    com = rig.plugin.files[EF_COM.fid].content
    # READ BINARY with a short EF identifier selects the file as it reads (P1 = 80 | SFI).
    assert session.transmit(rig.terminal, CommandApdu(0x00, 0xB0, 0x9E, 0, b"", 4)).data \
        == com[:4]
    assert session.transmit(rig.terminal, CommandApdu(0x00, 0xB0, 0, 4, b"", 4)).data \
        == com[4:8]
    tail = session.transmit(rig.terminal, CommandApdu(0x00, 0xB0, 0, len(com) - 2, b"", 16))
    assert (tail.sw, tail.data) == (SW.END_OF_FILE_REACHED, com[-2:])
    beyond = session.transmit(rig.terminal, CommandApdu(0x00, 0xB0, 0, len(com), b"", 1))
    assert beyond.sw == SW.WRONG_P1P2
    for command, sw in (("00A4020C027F7F", SW.FILE_NOT_FOUND),
                        ("00A40200020101", SW.INCORRECT_P1P2),
                        ("00A4020C0101", SW.WRONG_LENGTH),
                        ("00B09F0001", SW.FILE_NOT_FOUND),
                        ("0084000008", SW.CONDITIONS_OF_USE_NOT_SATISFIED)):
        assert session.transmit(rig.terminal, command).sw == sw, command
    assert rig.channel_open()  # errors travel protected; the session survives them


def test_reselect_ends_the_session(rig: Rig) -> None:
    session = bac(rig)
    assert rig.terminal.transmit(SELECT_APP).ok
    with pytest.raises(SmError):
        session.transmit(rig.terminal, "00A4020C02011E")
    assert read_document(rig.terminal, SPECIMEN.bac_information).mrz == SPECIMEN


def test_personalized_document_from_options() -> None:
    rig = Rig({"doc_number": "T22000129", "surname": "Test-Muster", "given_names": "Erika",
               "nationality": "UTO", "issuing_state": "UTO", "dob": "640812", "sex": "F",
               "expiry": "320101", "dg2_size": "0", "lds_version": "0107"})
    with rig.terminal.tap():
        with pytest.raises(BacFailed):
            read_document(rig.terminal, SPECIMEN.bac_information)
        # The inspection system keys in only number, birth and expiry (check digits added).
        keys = Td3Mrz.create(document_number="T22000129", issuing_state="UTO", surname="A",
                             given_names="", nationality="UTO", date_of_birth="640812",
                             sex="<", date_of_expiry="320101").bac_information
        assert keys == "T220001293" + "6408125" + "3201015"  # 7-3-1 sums 233, 115, 35
        document = read_document(rig.terminal, keys, groups=(1, 2))
    assert document.mrz is not None and document.mrz.surname == "TEST<MUSTER"
    assert document.mrz.lines[0].startswith("P<UTOTEST<MUSTER<<ERIKA<")
    assert (document.lds_version, document.data_groups) == ("0107", [1])
    assert EF_DG2.fid not in rig.plugin.files


def test_bad_options_are_refused_at_startup() -> None:
    with pytest.raises(Exception, match="date of birth"):
        Rig({"dob": "1964-08-12"})

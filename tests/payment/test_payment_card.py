"""The card's command handling over loopback: FCI, PPSE, GPO, records, GENERATE AC, errors."""

from __future__ import annotations

import pytest
from hcekit import SW, Card, CommandApdu, ResponseApdu
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.tlv import find, parse
from hcekit.trace import TraceRecord
from hcekit_payment import PaymentPlugin
from hcekit_payment.dol import dol_length, fill, parse_dol
from hcekit_payment.layout import CDOL1, CDOL2, PDOL

AID = bytes.fromhex("A0000000031010")
TTQ_QVSDC = bytes.fromhex("36804000")
TTQ_CONTACT = bytes.fromhex("16004000")


def gpo(terminal: Terminal, ttq: bytes | None = TTQ_CONTACT, *, data: bytes | None = None,
        p1p2: bytes = b"\x00\x00") -> ResponseApdu:
    if data is None:
        values = {0x9F66: ttq} if ttq is not None else {}
        values.update({0x9F02: bytes.fromhex("000000001234"), 0x9F37: b"\x11\x22\x33\x44"})
        pdol = fill(PDOL, values) if ttq is not None else b""
        data = bytes((0x83, len(pdol))) + pdol
    return terminal.transmit(CommandApdu(0x80, 0xA8, p1p2[0], p1p2[1], data, 256))


def generate_ac(terminal: Terminal, p1: int = 0x80, *, data: bytes | None = None,
                p2: int = 0) -> ResponseApdu:
    if data is None:
        data = fill(CDOL1, {0x9F02: bytes.fromhex("000000001234"), 0x9F37: b"\xAA\xBB\xCC\xDD"})
    return terminal.transmit(CommandApdu(0x80, 0xAE, p1, p2, data, 256))


def read_record(terminal: Terminal, sfi: int, record: int, p2_low: int = 4) -> ResponseApdu:
    return terminal.transmit(CommandApdu(0x00, 0xB2, record, (sfi << 3) | p2_low, b"", 256))


@pytest.fixture
def selected(terminal: Terminal) -> Terminal:
    assert terminal.select(AID).sw == SW.NO_ERROR
    return terminal


def test_ppse_lists_the_card_with_label_and_priority(terminal: Terminal) -> None:
    response = terminal.select(b"2PAY.SYS.DDF01")
    assert response.sw == SW.NO_ERROR
    entry = find(response.data, 0x61)
    assert entry is not None
    assert find(entry, 0x4F) == AID
    assert find(entry, 0x50) == b"HCEKIT TEST VISA"
    assert find(entry, 0x87) == b"\x01"


def test_select_returns_fci_with_pdol(terminal: Terminal) -> None:
    response = terminal.select(AID)
    assert response.sw == SW.NO_ERROR
    assert find(response.data, 0x84) == AID
    pdol = find(response.data, 0x9F38)
    assert pdol is not None
    entries = parse_dol(pdol)
    assert [tag for tag, _ in entries][:2] == [0x9F66, 0x9F02]
    assert dol_length(entries) == 33


def test_gpo_format_2_with_aip_and_afl(selected: Terminal) -> None:
    response = gpo(selected)
    assert response.sw == SW.NO_ERROR
    (template,) = parse(response.data)
    assert template.tag == 0x77
    assert find(response.data, 0x82) == b"\x18\x00"
    afl = find(response.data, 0x94)
    assert afl == bytes.fromhex("0801010010010202")
    assert find(response.data, 0x9F26) is None  # contact-style flow: no cryptogram yet


def test_every_afl_record_reads_and_pan_matches(selected: Terminal) -> None:
    afl = find(gpo(selected).data, 0x94)
    assert afl is not None
    seen: dict[int, bytes] = {}
    for i in range(0, len(afl), 4):
        for number in range(afl[i + 1], afl[i + 2] + 1):
            response = read_record(selected, afl[i] >> 3, number)
            assert response.sw == SW.NO_ERROR
            (record,) = parse(response.data)
            assert record.tag == 0x70
            for obj in record.children():
                seen[obj.tag] = obj.value
    assert seen[0x5A] == bytes.fromhex("4111111111111111")
    assert seen[0x57].startswith(bytes.fromhex("4111111111111111D2912201"))
    assert seen[0x5F24] == bytes.fromhex("291231")
    assert seen[0x5F20] == b"TEST/HCEKIT CARD"
    for tag in (0x8C, 0x8D, 0x8E, 0x9F07, 0x5F34, 0x9F0D, 0x9F0E, 0x9F0F):
        assert tag in seen, f"{tag:X} missing"
    assert parse_dol(seen[0x8C]) == list(CDOL1)


@pytest.mark.parametrize(("sfi", "record", "p2_low", "sw"), [
    (1, 2, 4, SW.RECORD_NOT_FOUND),
    (2, 3, 4, SW.RECORD_NOT_FOUND),
    (3, 1, 4, SW.FILE_NOT_FOUND),
    (30, 1, 4, SW.FILE_NOT_FOUND),
    (1, 0, 4, SW.INCORRECT_P1P2),
    (0, 1, 4, SW.INCORRECT_P1P2),
    (31, 1, 4, SW.INCORRECT_P1P2),
    (1, 1, 0, SW.INCORRECT_P1P2),
    (1, 1, 5, SW.INCORRECT_P1P2),
])
def test_read_record_addressing_errors(selected: Terminal, sfi: int, record: int, p2_low: int,
                                       sw: int) -> None:
    assert read_record(selected, sfi, record, p2_low).sw == sw


@pytest.mark.parametrize(("p1", "expected_cid"), [(0x80, 0x80), (0x40, 0x80), (0x00, 0x00)])
def test_generate_ac_decision(selected: Terminal, p1: int, expected_cid: int) -> None:
    assert gpo(selected).sw == SW.NO_ERROR
    response = generate_ac(selected, p1)
    assert response.sw == SW.NO_ERROR
    assert find(response.data, 0x9F27) == bytes((expected_cid,))
    assert len(find(response.data, 0x9F26) or b"") == 8
    assert find(response.data, 0x9F36) == b"\x00\x01"
    iad = find(response.data, 0x9F10)
    assert iad is not None and iad[2] == 18


def test_tc_when_amount_within_offline_limit() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore(),
                options={"payment": {"offline_limit": "5000"}})
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        terminal.select(AID)
        gpo(terminal)
        assert find(generate_ac(terminal, 0x40).data, 0x9F27) == b"\x40"  # 12.34 ≤ 50.00
    with terminal.tap():
        terminal.select(AID)
        gpo(terminal)
        big = fill(CDOL1, {0x9F02: bytes.fromhex("000000009999")})
        assert find(generate_ac(terminal, 0x40, data=big).data, 0x9F27) == b"\x80"


def test_qvsdc_cryptogram_comes_in_the_gpo_answer(selected: Terminal) -> None:
    response = gpo(selected, TTQ_QVSDC)
    assert response.sw == SW.NO_ERROR
    assert find(response.data, 0x9F27) == b"\x80"
    assert len(find(response.data, 0x9F26) or b"") == 8
    assert find(response.data, 0x57) is not None
    # the transaction is complete: no GENERATE AC, no second GPO
    assert generate_ac(selected).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
    assert gpo(selected, TTQ_QVSDC).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED


def test_offline_only_qvsdc_reader_gets_an_aac(selected: Terminal) -> None:
    response = gpo(selected, bytes.fromhex("28000000"))
    assert find(response.data, 0x9F27) == b"\x00"


def test_state_errors(selected: Terminal) -> None:
    assert generate_ac(selected).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED  # before GPO
    assert gpo(selected).sw == SW.NO_ERROR
    assert gpo(selected).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED  # second GPO
    assert generate_ac(selected).sw == SW.NO_ERROR  # ARQC: the card waits for the second AC
    assert generate_ac(selected).sw == SW.INCORRECT_P1P2  # a second AC never asks for an ARQC
    no_issuer = fill(CDOL2, {0x9F02: bytes.fromhex("000000001234")})
    assert find(generate_ac(selected, 0x40, data=no_issuer).data, 0x9F27) == b"\x00"  # AAC
    assert generate_ac(selected, 0x40, data=no_issuer).sw \
        == SW.CONDITIONS_OF_USE_NOT_SATISFIED  # the transaction is over
    # a new selection starts a new transaction with a new ATC
    selected.select(AID)
    assert gpo(selected).sw == SW.NO_ERROR
    assert find(generate_ac(selected).data, 0x9F36) == b"\x00\x02"


def test_gpo_without_selection_is_refused(terminal: Terminal) -> None:
    assert gpo(terminal).sw == SW.UNKNOWN  # the core: nothing selected (as Android answers)
    terminal.select(b"2PAY.SYS.DDF01")
    assert gpo(terminal).sw == SW.INS_NOT_SUPPORTED  # the PPSE takes SELECT only


@pytest.mark.parametrize(("data", "p1p2", "sw"), [
    (b"\x83\x00", b"\x00\x01", SW.INCORRECT_P1P2),
    (b"\x83\x02\x00\x00", b"\x00\x00", SW.WRONG_LENGTH),  # PDOL wants 33 bytes
    (b"\x84\x00", b"\x00\x00", SW.INCORRECT_DATA),  # not a command template
    (b"\x83\x05\x00", b"\x00\x00", SW.WRONG_LENGTH),  # truncated TLV
    (b"", b"\x00\x00", SW.WRONG_LENGTH),  # no data at all
])
def test_gpo_parameter_errors(selected: Terminal, data: bytes, p1p2: bytes, sw: int) -> None:
    assert gpo(selected, data=data, p1p2=p1p2).sw == sw
    # a refused GPO does not consume an ATC or start the transaction
    assert gpo(selected).sw == SW.NO_ERROR
    assert find(generate_ac(selected).data, 0x9F36) == b"\x00\x01"


def test_empty_pdol_data_is_refused_because_the_card_has_a_pdol(selected: Terminal) -> None:
    assert gpo(selected, data=b"\x83\x00").sw == SW.WRONG_LENGTH  # what emvtool sends
    pdol = fill(PDOL, {})
    for data in (pdol[:-1], pdol + b"\x00"):  # one byte short, one too many
        assert gpo(selected, data=bytes((0x83, len(data))) + data).sw == SW.WRONG_LENGTH
    assert generate_ac(selected).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED  # nothing started
    assert gpo(selected).sw == SW.NO_ERROR
    assert find(generate_ac(selected).data, 0x9F36) == b"\x00\x01"  # no ATC consumed


def test_empty_pdol_data_runs_the_generate_ac_flow_when_personalised_to() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore(),
                options={"payment": {"accept_empty_pdol": "1"}})
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        terminal.select(AID)
        assert gpo(terminal, data=b"\x83\x00").sw == SW.NO_ERROR
        assert generate_ac(terminal).sw == SW.NO_ERROR
    card.close()


@pytest.mark.parametrize("command", ["00B2010C", "80CA9F36"])
def test_le_follows_the_core_rules(payment_card: Card, command: str) -> None:
    """Le = 01 gets one byte and 61xx (the rest by GET RESPONSE), Le = 00 everything."""
    payment_card.transceive(bytes.fromhex("00A4040007") + AID + b"\x00")
    full = payment_card.transceive(bytes.fromhex(command + "00"))
    assert full[-2:] == b"\x90\x00" and len(full) > 3
    first = payment_card.transceive(bytes.fromhex(command + "01"))
    assert first[:1] == full[:1] and first[1:] == bytes((0x61, len(full) - 3))
    rest = payment_card.transceive(bytes((0x00, 0xC0, 0, 0, len(full) - 3)))
    assert first[:1] + rest == full


@pytest.mark.parametrize(("p1", "p2"), [(0xC0, 0), (0x90, 0), (0x81, 0), (0x80, 1)])
def test_generate_ac_parameter_errors(selected: Terminal, p1: int, p2: int) -> None:
    gpo(selected)
    assert generate_ac(selected, p1, p2=p2).sw == SW.INCORRECT_P1P2
    assert generate_ac(selected, data=bytes(28)).sw == SW.WRONG_LENGTH
    assert generate_ac(selected).sw == SW.NO_ERROR  # errors left the transaction usable


def test_class_and_instruction_errors(selected: Terminal) -> None:
    assert selected.transmit(CommandApdu(0x00, 0xA8, 0, 0, b"\x83\x00", 256)).sw \
        == SW.CLA_NOT_SUPPORTED
    assert selected.transmit(CommandApdu(0x80, 0xB2, 1, 0x0C, b"", 256)).sw \
        == SW.CLA_NOT_SUPPORTED
    assert selected.transmit(CommandApdu(0x80, 0x50, 0, 0, b"", 256)).sw == SW.INS_NOT_SUPPORTED


def test_get_data_atc(selected: Terminal) -> None:
    atc = selected.transmit(CommandApdu(0x80, 0xCA, 0x9F, 0x36, b"", 256))
    assert atc.sw == SW.NO_ERROR and atc.data == bytes.fromhex("9F36020000")
    gpo(selected)
    assert selected.transmit(CommandApdu(0x80, 0xCA, 0x9F, 0x36, b"", 256)).data \
        == bytes.fromhex("9F36020001")
    assert selected.transmit(CommandApdu(0x80, 0xCA, 0x9F, 0x13, b"", 256)).sw \
        == SW.REFERENCED_DATA_NOT_FOUND  # last online ATC: not kept
    assert selected.transmit(CommandApdu(0x80, 0xCA, 0x9F, 0x17, b"", 256)).data \
        == bytes.fromhex("9F170103")  # the PIN try counter issuer scripts reset


def test_pan_bearing_exchanges_are_marked_sensitive() -> None:
    records: list[TraceRecord] = []

    class Recorder:
        name = "recorder"

        def hcekit_trace(self, record: TraceRecord) -> None:
            records.append(record)

    card = Card([PaymentPlugin(), Recorder()], store=MemoryStore())
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        terminal.select(AID)
        gpo(terminal)
        read_record(terminal, 2, 1)
        read_record(terminal, 2, 2)
    flags = [(r.command[1], r.sensitive) for r in records]
    assert flags == [(0xA4, False), (0xA8, False), (0xB2, True), (0xB2, False)]


def test_field_loss_drops_the_transaction(payment_card: Card) -> None:
    terminal = Terminal(LoopbackTransport(LoopbackHost(payment_card)))
    with terminal.tap():
        terminal.select(AID)
        gpo(terminal)
    with terminal.tap():
        assert generate_ac(terminal).sw == SW.UNKNOWN  # nothing selected after the field loss
        terminal.select(AID)
        assert generate_ac(terminal).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED


def test_select_asking_for_fcp_is_refused_and_keeps_the_selection(terminal: Terminal) -> None:
    assert terminal.select(b"2PAY.SYS.DDF01").sw == SW.NO_ERROR
    fcp = terminal.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x04, AID, 256))
    assert fcp.sw == SW.INCORRECT_P1P2
    assert gpo(terminal).sw == SW.INS_NOT_SUPPORTED  # still the PPSE


def test_pan_and_track2_are_marked_secret_for_every_exchange() -> None:
    """Not only the records that carry them: any answer with the PAN or track 2 is redacted."""
    from hcekit import Card
    from hcekit.store import MemoryStore
    from hcekit_payment import PaymentPlugin
    from hcekit_payment.testdata import DEFAULT_PAN

    with Card([PaymentPlugin()], store=MemoryStore()) as card:
        pan = bytes.fromhex(DEFAULT_PAN)
        assert card.secrets.found_in(b"\x5a\x08" + pan + b"\x90\x00")
        assert card.secrets.found_in(b"\x57\x13" + pan + b"\xd2")
        assert not card.secrets.found_in(bytes.fromhex("6F00A0000000031010"))

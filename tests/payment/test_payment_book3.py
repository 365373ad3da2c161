"""An EMV Book 3 kernel's checks over every answer of both payment flows, and the checks' teeth.

The card's exchanges are recorded from the core's trace hook and re-parsed by
:mod:`hcekit_payment.book3` (its own BER-TLV reader and the Annex A table),
not by anything the card uses.
"""

from __future__ import annotations

import dataclasses

import pytest
from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.pcsc import PcscCardFactory
from hcekit.trace import TraceRecord
from hcekit_payment import PaymentPlugin
from hcekit_payment.book3 import Book3Checker, check_transaction, data_elements, parse_ber
from hcekit_payment.pos import PosError, PosResult, run_transaction

#: What a signer would cover: the AFL's ODA records (EMV Book 3 §10.3), never GPO data.
ODA_FULL = {0x5A, 0x5F24, 0x5F25, 0x5F28, 0x5F30, 0x9F07, 0x9F08, 0x9F42,
            0x5F34, 0x8C, 0x8D, 0x8E, 0x9F0D, 0x9F0E, 0x9F0F}
ODA_QVSDC = {0x5A, 0x5F24, 0x5F25, 0x5F28, 0x5F30, 0x9F07, 0x9F08, 0x9F42}


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.exchanges: list[tuple[bytes, bytes]] = []

    def hcekit_trace(self, record: TraceRecord) -> None:
        self.exchanges.append((record.command, record.response))


def _transaction(flow: str, online: str = "approve",
                 options: dict[str, str] | None = None) -> tuple[Recorder, PosResult]:
    recorder = Recorder()
    card = Card([PaymentPlugin(), recorder], store=MemoryStore(),
                options={"payment": options or {}})
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        result = run_transaction(terminal, flow=flow, online=online)
    card.close()
    return recorder, result


def _tags(data: bytes) -> set[int]:
    found = set()
    for obj in parse_ber(data):
        if obj.constructed:
            found |= _tags(obj.value)
        else:
            found.add(obj.tag)
    return found


@pytest.mark.parametrize("cvn", ["10", "18"])
@pytest.mark.parametrize(("flow", "online", "oda"), [
    ("generate-ac", "approve", ODA_FULL),
    ("generate-ac", "decline", ODA_FULL),
    ("generate-ac", "offline", ODA_FULL),
    ("qvsdc", "approve", ODA_QVSDC),
])
def test_both_flows_pass_an_independent_book3_check(flow: str, online: str, oda: set[int],
                                                    cvn: str) -> None:
    recorder, _ = _transaction(flow, online, {"cvn": cvn})
    checker = check_transaction(recorder.exchanges, strict=True)
    assert checker.findings == []
    assert {0x5A, 0x5F24} <= checker.card_data.keys()
    if flow == "qvsdc":
        assert checker.cryptogram_in_gpo and checker.generate_ac_count == 0
        assert checker.origin[0x57] == "GPO answer" and checker.origin[0x5F34] == "GPO answer"
    else:
        assert {0x8C, 0x8D} <= checker.card_data.keys()
        assert checker.generate_ac_count == 2
    # every record the AFL names was read; the ODA input holds exactly the static data
    assert checker.afl_entries()
    assert _tags(checker.oda_input()) == oda


@pytest.mark.parametrize(("online", "final"), [("approve", "TC"), ("decline", "AAC"),
                                                ("offline", "AAC")])
def test_second_generate_ac_outcome(online: str, final: str) -> None:
    _, result = _transaction("generate-ac", online)
    assert result.record.cryptogram_type.name == "ARQC"
    assert result.final is not None and result.final_verdict is not None
    assert result.final.cryptogram_type.name == final
    assert result.final_verdict.valid
    assert result.approved is (final == "TC")


def test_annex_a_table_names_its_source_and_covers_the_card() -> None:
    table = data_elements()
    assert table[0x5F24].format == "n" and table[0x5F24].date
    assert (table[0x9F26].min, table[0x9F26].max) == (8, 8)
    assert table[0x8D].dol


# -- the checker's teeth: each rule fails on a card that breaks it ---------------------------

GPO = bytes.fromhex("80A8000002830000")
RR = "00B2{:02X}{:02X}00"
OK = b"\x90\x00"


def _rec(*objects: bytes) -> bytes:
    body = b"".join(objects)
    return b"\x70" + bytes((len(body),)) + body + OK


def _tlv(tag: str, value: bytes) -> bytes:
    return bytes.fromhex(tag) + bytes((len(value),)) + value


def _gpo_answer(afl: bytes, *extra: bytes) -> bytes:
    body = _tlv("82", b"\x18\x00") + _tlv("94", afl) + b"".join(extra)
    return b"\x77" + bytes((len(body),)) + body + OK


GOOD_RECORD = (_tlv("5A", bytes.fromhex("4111111111111111")), _tlv("5F24", bytes.fromhex("291231")),
               _tlv("8C", bytes.fromhex("9F0206")), _tlv("8D", bytes.fromhex("8A02")))


def _run(gpo: bytes, records: list[bytes], *extra: tuple[bytes, bytes]) -> Book3Checker:
    exchanges = [(GPO, gpo)]
    exchanges += [(bytes.fromhex(RR.format(1 + i, (1 << 3) | 4)), r) for i, r in enumerate(records)]
    exchanges += list(extra)
    return check_transaction(exchanges)


def _sections(checker: Book3Checker) -> list[str]:
    return [f.section for f in checker.findings]


def test_a_conforming_synthetic_card_has_no_findings() -> None:
    assert _run(_gpo_answer(b"\x08\x01\x01\x00"), [_rec(*GOOD_RECORD)]).findings == []


def test_missing_cdol2_is_mandatory_data_missing() -> None:
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00"), [_rec(*GOOD_RECORD[:3])])
    assert _sections(checker) == ["§7.2"] and "8D" in checker.findings[0].message


def test_cdol_is_not_mandatory_when_the_gpo_carries_the_cryptogram() -> None:
    cryptogram = (_tlv("9F27", b"\x80") + _tlv("9F36", b"\x00\x01") + _tlv("9F26", bytes(8)))
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00", cryptogram), [_rec(*GOOD_RECORD[:2])])
    assert checker.findings == []


def test_redundant_object_across_gpo_and_records() -> None:
    track2 = _tlv("57", bytes.fromhex("4111111111111111D29122010000000000000F"))
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00", track2), [_rec(track2, *GOOD_RECORD)])
    assert _sections(checker) == ["§10.2"] and "redundant" in checker.findings[0].message


def test_afl_pointing_at_a_missing_record() -> None:
    checker = _run(_gpo_answer(b"\x08\x01\x02\x00"), [_rec(*GOOD_RECORD), b"\x6a\x83"])
    assert _sections(checker) == ["§10.2"] and "6A83" in checker.findings[0].message


@pytest.mark.parametrize("afl", ["08010100", "00010100", "08000100", "08020100", "08010102",
                                 "080101"])
def test_invalid_afl_entries(afl: str) -> None:
    raw = bytes.fromhex(afl)
    checker = _run(_gpo_answer(raw), [_rec(*GOOD_RECORD)])
    if afl == "08010100":
        assert checker.findings == []
    else:
        assert "§10.2" in _sections(checker)


@pytest.mark.parametrize(("obj", "why"), [
    (_tlv("5F24", bytes.fromhex("291331")), "date"),
    (_tlv("5F24", bytes.fromhex("2912")), "bytes"),
    (_tlv("5F28", bytes.fromhex("084A")), "numeric"),
    (_tlv("5F20", b"TEST\x01CARD"), "ans"),
    (_tlv("9F07", b"\xff"), "bytes"),
    (_tlv("9F42", bytes.fromhex("0840AA")), "bytes"),
    (_tlv("5F2D", b"e-"), "an"),
])
def test_annex_a_formats_and_lengths(obj: bytes, why: str) -> None:
    record = [o for o in GOOD_RECORD if not obj.startswith(o[:2])] + [obj]
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00"), [_rec(*record)])
    assert "Annex A" in _sections(checker)
    assert why in " ".join(f.message for f in checker.findings)


def test_record_of_sfi_1_to_10_must_be_template_70() -> None:
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00"), [_tlv("71", b"\x5a\x01\x41") + OK])
    assert "§10.2" in _sections(checker)


def test_generate_ac_answers_above_the_request_or_arqc_second() -> None:
    answer = _tlv("9F27", b"\x40") + _tlv("9F36", b"\x00\x01") + _tlv("9F26", bytes(8))
    response = b"\x77" + bytes((len(answer),)) + answer + OK
    asked_aac = (bytes.fromhex("80AE000000"), response)
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00"), [_rec(*GOOD_RECORD)], asked_aac)
    assert "§6.5.5.4" in _sections(checker)
    arqc = _tlv("9F27", b"\x80") + _tlv("9F36", b"\x00\x01") + _tlv("9F26", bytes(8))
    arqc_response = b"\x77" + bytes((len(arqc),)) + arqc + OK
    twice = [(bytes.fromhex("80AE800000"), arqc_response)] * 2
    checker = _run(_gpo_answer(b"\x08\x01\x01\x00"), [_rec(*GOOD_RECORD)], *twice)
    assert "§9.3" in _sections(checker)


def test_pos_terminates_on_a_book3_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's terminal refuses a card that repeats GPO data in its records."""
    import hcekit_payment.layout as layout_module

    real = layout_module.build_layout

    def old_layout(perso):  # type: ignore[no-untyped-def]
        built = real(perso)
        return dataclasses.replace(built, afl_qvsdc=built.afl)

    monkeypatch.setattr("hcekit_payment.layout.build_layout", old_layout)
    card = Card([PaymentPlugin()], store=MemoryStore())
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap(), pytest.raises(PosError, match="redundant primitive data object 57"):
        run_transaction(terminal, flow="qvsdc")
    card.close()


def test_parse_ber_refuses_truncation() -> None:
    with pytest.raises(ValueError):
        parse_ber(bytes.fromhex("5A08411111"))
    assert [o.tag for o in parse_ber(bytes.fromhex("00005A0141"), padding=True)] == [0x5A]


@pytest.mark.pcsc
@pytest.mark.parametrize("flow", ["generate-ac", "qvsdc"])
def test_both_flows_through_pcscd_pass_the_book3_check(pcsc_card: PcscCardFactory,
                                                       flow: str) -> None:
    """The same independent check over the real stack: pyscard → pcscd → vpcd → the card."""
    recorder = Recorder()
    served = pcsc_card([PaymentPlugin(), recorder])
    result = run_transaction(served.terminal, flow=flow)
    assert result.findings == []
    checker = check_transaction(recorder.exchanges, strict=True)
    assert checker.findings == []
    assert checker.generate_ac_count == (2 if flow == "generate-ac" else 0)

"""pyemv (an independent EMV implementation) verifies the cryptograms this card produces."""

from __future__ import annotations

from typing import Any

import pytest
from hcekit import Card, CommandApdu
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.requirements import missing
from hcekit.tlv import find
from hcekit_payment import CVN, TEST_IMK, CryptogramType, PaymentPlugin
from hcekit_payment.dol import fill
from hcekit_payment.layout import CDOL1, PDOL, cdol2
from hcekit_payment.personalization import load
from hcekit_payment.pos import run_transaction
from hcekit_payment.testdata import luhn_valid

pytestmark = [pytest.mark.interop,
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*TripleDES.*")]


def _pyemv() -> Any:
    try:
        import pyemv
    except ImportError:
        missing("pyemv is not installed (pip install -e '.[interop]')")
    return pyemv


def _luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def _card(cvn: int, pan: str, psn: str = "00") -> Card:
    return Card([PaymentPlugin()], store=MemoryStore(),
                options={"payment": {"cvn": str(cvn), "pan": pan, "psn": psn}})


PANS = ["4111111111111111", _luhn_complete("476173900101001")]  # two 16-digit test PANs
LONG_PAN = _luhn_complete("476173900101001234")  # 19 digits: option B's SHA-1 path


@pytest.mark.parametrize("flow", ["generate-ac", "qvsdc"])
@pytest.mark.parametrize(("cvn", "pan", "psn"), [
    (10, PANS[0], "00"), (18, PANS[0], "00"), (18, PANS[1], "01"), (18, LONG_PAN, "03"),
    (10, LONG_PAN, "02"),
])
def test_pyemv_verifies_the_card_cryptogram(cvn: int, pan: str, psn: str, flow: str) -> None:
    pyemv = _pyemv()
    card = _card(cvn, pan, psn)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    results = []
    for _ in range(2):
        with terminal.tap():
            results.append(run_transaction(terminal, amount_minor=4321, flow=flow))
    for result in results:
        rec = result.record
        assert rec.pan == pan and rec.psn == psn
        assert rec.cryptogram_type is CryptogramType.ARQC
        fields = dict(tag_9f02=rec.data.amount_authorised, tag_9f03=rec.data.amount_other,
                      tag_9f1a=rec.data.terminal_country, tag_95=rec.data.tvr,
                      tag_5f2a=rec.data.currency, tag_9a=rec.data.date,
                      tag_9c=rec.data.transaction_type, tag_9f37=rec.data.unpredictable_number,
                      tag_82=rec.aip, tag_9f36=rec.atc)
        if cvn == 10:
            scheme = pyemv.cvn.VisaCVN10(TEST_IMK, TEST_IMK, TEST_IMK, pan, psn)
            expected = scheme.generate_ac(**fields, cvr=rec.iad[3:7])
        else:
            scheme = pyemv.cvn.VisaCVN18(TEST_IMK, TEST_IMK, TEST_IMK, pan, psn)
            expected = scheme.generate_ac(**fields, tag_9f10=rec.iad)
        assert rec.cryptogram == expected
        assert result.verdict.valid
    # the two taps used different ATCs, hence different cryptograms
    assert results[0].record.atc != results[1].record.atc
    assert results[0].record.cryptogram != results[1].record.cryptogram
    # the card stores the key pyemv derives from the issuer key, never the issuer key
    stored = load(card.plugins["payment"].store)
    assert stored is not None
    derive = pyemv.kd.derive_icc_mk_a if cvn == 10 else pyemv.kd.derive_icc_mk_b
    assert stored.icc_mk == derive(TEST_IMK, pan, psn)
    card_store = card.plugins["payment"].store
    assert all(TEST_IMK not in (card_store.get(k) or b"") for k in card_store.keys())


def _second_ac(card: Card, issuer_data: bytes | None, arc: bytes, p1: int = 0x40,
               cvn: int = 18) -> tuple[bytes, dict[int, bytes], dict[int, bytes]]:
    """Run the full flow to the ARQC, then a second GENERATE AC; (ARQC, first, second)."""

    values = {0x9F02: bytes.fromhex("000000004321"), 0x9F37: b"\x01\x02\x03\x04",
              0x9F1A: b"\x08\x40", 0x5F2A: b"\x08\x40", 0x9A: b"\x26\x11\x30"}
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    out: list[dict[int, bytes]] = []
    with terminal.tap():
        terminal.select(bytes.fromhex("A0000000031010")).check()
        pdol = fill(PDOL, {0x9F66: bytes.fromhex("16004000"), **values})
        terminal.transmit(CommandApdu(0x80, 0xA8, 0, 0, b"\x83" + bytes((len(pdol),)) + pdol,
                                      256)).check()
        first = terminal.transmit(CommandApdu(0x80, 0xAE, 0x80, 0, fill(CDOL1, values), 256))
        arqc = find(first.check().data, 0x9F26) or b""
        values2 = {**values, 0x8A: arc}
        if issuer_data is not None:
            values2[0x91] = issuer_data
        second = terminal.transmit(CommandApdu(0x80, 0xAE, p1, 0,
                                               fill(cdol2(CVN(cvn)), values2), 256))
        for response in (first, second):
            out.append({tag: find(response.check().data, tag) or b""
                        for tag in (0x9F27, 0x9F36, 0x9F26, 0x9F10)})
    return arqc, out[0], out[1]


def _pyemv_ac(pyemv: Any, cvn: int, answer: dict[int, bytes]) -> bytes:
    fields = dict(tag_9f02=bytes.fromhex("000000004321"), tag_9f03=bytes(6),
                  tag_9f1a=b"\x08\x40", tag_95=bytes(5), tag_5f2a=b"\x08\x40",
                  tag_9a=b"\x26\x11\x30", tag_9c=b"\x00", tag_9f37=b"\x01\x02\x03\x04",
                  tag_82=b"\x18\x00", tag_9f36=answer[0x9F36])
    pan = "4111111111111111"
    if cvn == 10:
        cvn10 = pyemv.cvn.VisaCVN10(TEST_IMK, TEST_IMK, TEST_IMK, pan, "00")
        return bytes(cvn10.generate_ac(**fields, cvr=answer[0x9F10][3:7]))
    cvn18 = pyemv.cvn.VisaCVN18(TEST_IMK, TEST_IMK, TEST_IMK, pan, "00")
    return bytes(cvn18.generate_ac(**fields, tag_9f10=answer[0x9F10]))


def _pyemv_issuer_data(pyemv: Any, cvn: int, arqc: bytes, atc: bytes, approve: bool) -> bytes:
    """Issuer Authentication Data made by pyemv: ARPC method 1 (CVN 10) or 2 (CVN 18)."""
    pan = "4111111111111111"
    if cvn == 10:
        arc = b"00" if approve else b"05"
        cvn10 = pyemv.cvn.VisaCVN10(TEST_IMK, TEST_IMK, TEST_IMK, pan, "00")
        return bytes(cvn10.generate_arpc(tag_9f26=arqc, arpc_rc=arc)) + arc
    csu = bytes((0, 0x80 if approve else 0, 0, 0))
    cvn18 = pyemv.cvn.VisaCVN18(TEST_IMK, TEST_IMK, TEST_IMK, pan, "00")
    return bytes(cvn18.generate_arpc(tag_9f26=arqc, tag_9f36=atc, csu=csu)) + csu


@pytest.mark.parametrize("cvn", [10, 18])
@pytest.mark.parametrize(("case", "cid", "cvr_bits"), [
    ("approved", 0x40, 0x60),        # TC; CVR: second AC TC, first AC ARQC
    ("declined", 0x00, 0x20),        # AAC; issuer said no
    ("forged", 0x00, 0x28),          # AAC; issuer authentication failed (b4)
    ("no-issuer-data", 0x00, 0x21),  # AAC; unable to go online (b1)
    ("aac-requested", 0x00, 0x20),   # AAC asked: AAC even when approved
])
def test_second_generate_ac_with_a_pyemv_arpc(cvn: int, case: str, cid: int,
                                              cvr_bits: int) -> None:
    pyemv = _pyemv()
    # first pass: learn the ARQC the card will produce for ATC 1 (a fresh card per pass)
    arqc, first, _ = _second_ac(_card(cvn, PANS[0]), None, b"Z3", cvn=cvn)
    assert _pyemv_ac(pyemv, cvn, first) == arqc  # pyemv agrees on the ARQC itself
    issuer_data: bytes | None = _pyemv_issuer_data(pyemv, cvn, arqc, first[0x9F36],
                                                   approve=case != "declined")
    assert issuer_data is not None
    arc = b"05" if case == "declined" else b"00"
    if case == "forged":
        issuer_data = bytes((issuer_data[0] ^ 1,)) + issuer_data[1:]
    if case == "no-issuer-data":
        issuer_data, arc = None, b"Z3"
    p1 = 0x00 if case == "aac-requested" else 0x40
    arqc2, first2, second = _second_ac(_card(cvn, PANS[0]), issuer_data, arc, p1, cvn=cvn)
    assert arqc2 == arqc  # same card, same ATC, same data: the same ARQC
    assert second[0x9F27] == bytes((cid,))
    assert second[0x9F36] == first2[0x9F36]  # one transaction, one ATC
    assert second[0x9F10][4] == cvr_bits  # CVR byte 2
    assert second[0x9F26] == _pyemv_ac(pyemv, cvn, second)  # pyemv verifies the TC/AAC

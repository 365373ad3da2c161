"""pyemv (an independent EMV implementation) verifies the cryptograms this card produces."""

from __future__ import annotations

from typing import Any

import pytest
from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.requirements import missing
from hcekit_payment import TEST_IMK, CryptogramType, PaymentPlugin
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

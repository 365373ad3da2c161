"""The Mastercard profile: chosen by the PAN's brand, its own AID and label, CVN 16, CDA.

The AC is checked by pyemv's ``MasterCardCVN16`` (code no one here wrote) as well as by
the project's issuer; ODA by the terminal side from the exported CAPK.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest
from hcekit import SW, Card, CommandApdu
from hcekit.cli import main
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.requirements import missing
from hcekit.tlv import find
from hcekit_payment import CVN, TEST_IMK, PaymentPlugin
from hcekit_payment.arpc import issuer_authentication_data
from hcekit_payment.book3 import check_transaction
from hcekit_payment.brands import MASTERCARD, VISA, brand_of
from hcekit_payment.personalization import PersonalizationError, personalize
from hcekit_payment.pos import PosResult, run_transaction

from .test_payment_book3 import Recorder

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

MC_PAN = "5555555555554444"
MC_AID = bytes.fromhex("A0000000041010")


def _purchase(options: dict[str, str], **kwargs: object) -> tuple[PosResult, Recorder]:
    recorder = Recorder()
    card = Card([PaymentPlugin(), recorder], store=MemoryStore(),
                options={"payment": {"pan": MC_PAN, **options}})
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        result = run_transaction(terminal, **kwargs)  # type: ignore[arg-type]
    card.close()
    return result, recorder


@pytest.mark.parametrize(("pan", "brand"), [
    ("4111111111111111", VISA), ("5555555555554444", MASTERCARD),
    ("5413330089010012", MASTERCARD), ("2221000000000009", MASTERCARD),
    ("2720999999999996", MASTERCARD), ("6011111111111117", None), ("378282246310005", None),
])
def test_brand_follows_the_iin_ranges(pan: str, brand: object) -> None:
    assert brand_of(pan) is brand


def test_a_mastercard_pan_gets_the_mastercard_profile() -> None:
    perso = personalize(MC_PAN)
    assert (perso.aid, perso.label, perso.cvn) == (MC_AID, "HCEKIT TEST MC", CVN.MASTERCARD_16)
    assert personalize("2221000000000009", force=True).aid == MC_AID


@pytest.mark.parametrize(("pan", "fields", "message"), [
    ("6011111111111117", {}, "no brand this card supports"),
    ("378282246310005", {}, "Visa 4; Mastercard 51–55, 2221–2720"),
    (MC_PAN, {"cvn": 18}, "unsupported CVN for Mastercard; this card implements 16"),
    ("4111111111111111", {"cvn": 16}, "unsupported CVN for Visa"),
])
def test_unsupported_brands_and_cvns_are_refused(pan: str, fields: dict[str, int],
                                                 message: str) -> None:
    with pytest.raises(PersonalizationError, match=message):
        personalize(pan, force=True, **fields)


def test_cli_refuses_an_unsupported_brand(capsys: pytest.CaptureFixture[str],
                                          tmp_path: object) -> None:
    assert main(["payment", "personalize", "--store", f"{tmp_path}/s.sqlite", "--pan",
                 "6011111111111117", "--allow-non-test-pan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hcekit: error:") and "no brand this card supports" in err


def test_purchase_passes_book3_and_the_issuer() -> None:
    result, recorder = _purchase({})
    assert result.aid == MC_AID and result.label == "HCEKIT TEST MC"
    assert result.flow == "GENERATE AC" and result.verdict.valid and result.approved
    assert result.final_verdict is not None and result.final_verdict.valid
    assert check_transaction(recorder.exchanges, strict=True).findings == []
    select = next(r for c, r in recorder.exchanges if c[1] == 0xA4 and MC_AID in c)
    assert find(select[:-2], 0x9F38) is None  # no PDOL: GPO data is 83 00


def test_pyemv_recomputes_the_mastercard_cryptogram_and_arpc() -> None:
    if importlib.util.find_spec("pyemv") is None:
        missing("pyemv is not installed (pip install pyemv)")
    import pyemv

    result, _ = _purchase({})
    rec = result.record
    mc = pyemv.cvn.MasterCardCVN16(TEST_IMK, TEST_IMK, TEST_IMK, rec.pan, rec.psn)
    expected = mc.generate_ac(
        tag_9f02=rec.data.amount_authorised, tag_9f03=rec.data.amount_other,
        tag_9f1a=rec.data.terminal_country, tag_95=rec.data.tvr, tag_5f2a=rec.data.currency,
        tag_9a=rec.data.date, tag_9c=rec.data.transaction_type,
        tag_9f37=rec.data.unpredictable_number, tag_82=rec.aip, tag_9f36=rec.atc,
        cvr=rec.iad[2:8])
    assert rec.cryptogram == expected
    ours = issuer_authentication_data(CVN.MASTERCARD_16, mc.icc_mk_ac, rec.atc, rec.cryptogram,
                                      approve=True)
    assert ours == mc.generate_arpc(rec.cryptogram, b"00") + b"00"


def test_cda_under_the_mastercard_rid() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["payment", "capk", "--json"]) == 0
    result, recorder = _purchase({"oda": "cda"}, capks=out.getvalue())
    assert result.oda == "CDA verified" and result.final_verdict is not None
    assert result.final_verdict.valid
    assert check_transaction(recorder.exchanges, strict=True).findings == []
    result, _ = _purchase({"oda": "cda", "oda_fault": "wrong-ca-index"}, capks=out.getvalue())
    assert result.oda == "CDA failed: Book 2 §5.3: no CAPK for RID A000000004 index F8"


def test_mastercard_gpo_takes_only_empty_pdol_data() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore(), options={"payment": {"pan": MC_PAN}})
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        assert terminal.select(MC_AID).sw == SW.NO_ERROR
        visa_style = bytes.fromhex("830436804000")  # a TTQ the card did not ask for
        assert terminal.transmit(CommandApdu(0x80, 0xA8, 0, 0, visa_style, 256)).sw == \
            SW.WRONG_LENGTH
        answer = terminal.transmit(CommandApdu(0x80, 0xA8, 0, 0, b"\x83\x00", 256))
        assert answer.sw == SW.NO_ERROR and find(answer.data, 0x9F26) is None  # no qVSDC
    card.close()

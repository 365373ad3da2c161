"""Clients no one here wrote read the card through the real pcscd + vpcd stack.

emvtool (PyPI ``emv``) lists the application, runs GET PROCESSING OPTIONS
and reads every record the AFL names, and dumps the card (``info``); pyemv
verifies an ARQC produced through pyscard. emv pins pyscard 2.0.0, so CI
installs it with ``pip install --no-deps emv`` and runs it through
``emvtool_shim.py`` (restores two pyscard constants; the card is untouched).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from hcekit.store import MemoryStore
from hcekit.testing.pcsc import PcscCard, PcscCardFactory
from hcekit.testing.requirements import missing
from hcekit_payment import TEST_IMK, PaymentPlugin
from hcekit_payment.atc import current_atc
from hcekit_payment.pos import run_transaction

pytestmark = [pytest.mark.pcsc, pytest.mark.interop,
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*TripleDES.*")]

SHIM = Path(__file__).with_name("emvtool_shim.py")
_BOX = re.compile(r"\x1b\(0|\x1b\(B")  # terminaltables' line-drawing escapes


def _require(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        how = ("pip install --no-deps emv && pip install click terminaltables pycountry"
               if package == "emv" else "pip install pyemv")
        reason = f"{package} is not installed ({how})"
        missing(reason)


def _emvtool(served: PcscCard, *args: str) -> str:
    result = served.run([sys.executable, str(SHIM), "-r", str(served.reader_index), *args],
                        timeout=60)
    assert result.returncode == 0, f"emvtool {' '.join(args)} failed:\n{result.stderr}"
    return _BOX.sub("", result.stdout)


def test_emvtool_listapps_appdata_info(pcsc_card: PcscCardFactory) -> None:
    _require("emv", "emv")
    store = MemoryStore()
    # emvtool's GPO sends 83 00 whatever the PDOL says: the card refuses that unless told
    served = pcsc_card(PaymentPlugin(), store=store, connect=False,
                       options={"payment": {"accept_empty_pdol": "1"}})

    assert served.reader in _emvtool(served, "readers")
    apps = _emvtool(served, "listapps")
    assert '"HCEKIT TEST VISA"' in apps and "[A0 00 00 00 03 10 10]" in apps

    data = _emvtool(served, "appdata", "0")
    assert "[24, 0]" in data  # AIP 18 00 as emvtool prints it
    assert "[8, 1, 1, 0, 16, 1, 2, 2]" in data  # AFL: SFI 1 rec 1, SFI 2 recs 1-2 (ODA)
    assert "4111111111111111" in data and '"TEST/HCEKIT CARD"' in data
    assert "29/12/31" in data  # expiry 5F24
    assert "Card Risk Management Data Object List 1" in data
    assert "Card Risk Management Data Object List 2" in data  # 8D, EMV Book 3 §7.2
    assert current_atc(store.namespace("payment")) == 1  # appdata ran GET PROCESSING OPTIONS

    redacted = _emvtool(served, "--redact", "appdata", "0")
    assert "4111111111111111" not in redacted and "[REDACTED]" in redacted

    info = _emvtool(served, "info")
    assert "2PAY.SYS.DDF01" in info and "Processing Options Data Object List" in info
    for record in ("File: 1,1", "File: 2,1", "File: 2,2"):
        assert record in info
    assert "File: 3,1" not in info and "File: 2,3" not in info
    assert re.search(r"\batc\s+\S?\s*2\b", info), info[-400:]  # GET DATA 9F36 after 2 GPOs


def test_emvtool_reads_a_card_with_oda_records(pcsc_card: PcscCardFactory) -> None:
    """The certificate records (SFI 3, two-byte BER lengths) do not trouble a foreign reader."""
    _require("emv", "emv")
    served = pcsc_card(PaymentPlugin(), connect=False,
                       options={"payment": {"accept_empty_pdol": "1", "oda": "sda,dda,cda"}})
    data = _emvtool(served, "appdata", "0")
    assert "[121, 0]" in data  # AIP 79 00: 18 plus SDA 40, DDA 20, CDA 01
    assert "Issuer Public Key Certificate" in data and "ICC Public Key Certificate" in data
    info = _emvtool(served, "info")
    for record in ("File: 3,1", "File: 3,2", "File: 3,3"):
        assert record in info


def test_pyemv_verifies_an_arqc_made_through_pcsc(pcsc_card: PcscCardFactory) -> None:
    _require("pyemv", "pyemv")
    import pyemv

    served = pcsc_card(PaymentPlugin(), options={"payment": {"cvn": "10"}})
    for flow in ("generate-ac", "qvsdc"):
        result = run_transaction(served.terminal, amount_minor=999, flow=flow)
        served.terminal.disconnect()
        served.terminal.connect()
        rec = result.record
        cvn10 = pyemv.cvn.VisaCVN10(TEST_IMK, TEST_IMK, TEST_IMK, rec.pan, rec.psn)
        expected = cvn10.generate_ac(
            tag_9f02=rec.data.amount_authorised, tag_9f03=rec.data.amount_other,
            tag_9f1a=rec.data.terminal_country, tag_95=rec.data.tvr,
            tag_5f2a=rec.data.currency, tag_9a=rec.data.date,
            tag_9c=rec.data.transaction_type, tag_9f37=rec.data.unpredictable_number,
            tag_82=rec.aip, tag_9f36=rec.atc, cvr=rec.iad[3:7])
        assert rec.cryptogram == expected
        assert result.verdict.valid

"""The eMRTD chip over the real PC/SC stack: private pcscd + vpcd + hcekit's vpcd host + pyscard.

BAC and secure messaging run through pcscd exactly as a desktop passport
reader application would drive them (``pcsc_card`` fixture, docs/pcsc.md).
"""

from __future__ import annotations

import io

import pytest
from hcekit.terminal import ScriptContext
from hcekit.testing.pcsc import PcscCardFactory
from hcekit_mrtd import EF_DG2, SPECIMEN, BacFailed, MrtdPlugin, read_document
from hcekit_mrtd.reader import reader_script

pytestmark = pytest.mark.pcsc


def test_bac_and_sm_reads_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    plugin = MrtdPlugin()
    served = pcsc_card(plugin, connect=False)
    with served.terminal.tap():
        with pytest.raises(BacFailed, match="6300"):
            read_document(served.terminal, SPECIMEN.bac_information[:-1] + "0")
        document = read_document(served.terminal, SPECIMEN.bac_information, groups=(1, 2))
    assert document.mrz == SPECIMEN
    assert document.files[EF_DG2.fid] == plugin.files[EF_DG2.fid].content
    out = io.StringIO()
    with served.terminal.tap():
        rc = reader_script.run(ScriptContext(served.terminal, {}, out))
    assert rc == 0 and SPECIMEN.lines[1] in out.getvalue(), out.getvalue()

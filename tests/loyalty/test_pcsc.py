"""The till script over the real PC/SC stack: private pcscd + vpcd + hcekit's vpcd host + pyscard.

The card is served through the ``pcsc_card`` fixture (docs/pcsc.md); the till
talks to it as any PC/SC application would — in-process through pyscard, and
as a separate ``hcekit tap --reader`` process.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.terminal import ScriptContext, Terminal
from hcekit.testing.pcsc import PcscCardFactory
from hcekit.testing.requirements import missing
from hcekit_loyalty import LoyaltyPlugin
from hcekit_loyalty import protocol as P
from hcekit_loyalty.crypto import compressed
from hcekit_loyalty.status import SmartTapSW
from hcekit_loyalty.testkeys import TEST_COLLECTOR_ID
from hcekit_loyalty.till import MerchantCredentials, SmartTapTill, run_till

from .conftest import TamperingTransport

pytestmark = pytest.mark.pcsc


def till(terminal: Terminal, extras: dict[str, Any] | None = None,
         **options: str) -> tuple[int, str]:
    out = io.StringIO()
    with terminal.tap():
        rc = run_till(ScriptContext(terminal, options, out, extras or {}))
    return rc, out.getvalue()


def test_till_script_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    plugin = LoyaltyPlugin()
    served = pcsc_card(plugin, connect=False)
    assert plugin.book is not None
    member = plugin.book.get(TEST_COLLECTOR_ID).member_id.decode()  # type: ignore[union-attr]
    rc, out = till(served.terminal, op="earn", points="30")
    assert rc == 0, out
    assert f"Member ID: {member}" in out and "Earned 30 points: balance 30" in out
    rc, out = till(served.terminal, op="redeem", points="12")
    assert rc == 0, out
    assert "Redeemed 12 points: balance 18 (ledger counter 2)" in out
    rc, out = till(served.terminal, op="redeem", points="100")
    assert rc == 1 and "INVALID_VALUE" in out
    assert plugin.book.balance(TEST_COLLECTOR_ID) == 18


def test_wrong_merchant_key_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    plugin = LoyaltyPlugin()
    served = pcsc_card(plugin, connect=False)
    impostor = MerchantCredentials(TEST_COLLECTOR_ID, 1, ec.generate_private_key(ec.SECP256R1()))
    rc, out = till(served.terminal, {"merchant": impostor})
    assert rc == 1 and "refused the merchant key" in out
    assert plugin.book is not None and plugin.book.balance(TEST_COLLECTOR_ID) == 0


def test_tampered_response_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(LoyaltyPlugin(), connect=False)
    mitm = TamperingTransport(served.transport)

    def flip(command: bytes, response: bytes) -> bytes:
        if command[1] == P.INS_GET_DATA and len(response) > 40:
            return response[:-12] + bytes((response[-12] ^ 0x80,)) + response[-11:]
        return response
    mitm.mutate = flip
    rc, out = till(Terminal(mitm))
    assert rc == 1 and "integrity check" in out


def test_long_answer_chains_with_9100_through_pcscd(pcsc_card: PcscCardFactory) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    offers = [f"PCSC-OFFER-{i:02d}-" + "Y" * 40 for i in range(10)]
    options = {"loyalty": {"programs": [{
        "collector_id": 55555555, "merchant_keys": {"1": compressed(key.public_key()).hex()},
        "member_id": "PCSC-1", "offers": offers}]}}
    served = pcsc_card(LoyaltyPlugin(), options=options, connect=False)
    log = TamperingTransport(served.transport)
    smart_tap = SmartTapTill(Terminal(log), MerchantCredentials(55555555, 1, key))
    with smart_tap.terminal.tap():
        smart_tap.select()
        smart_tap.negotiate()
        objects = smart_tap.get_data()
    assert [o.code.decode() for o in objects.offers] == offers
    assert objects.loyalty[0].member_id == b"PCSC-1"
    sws = [int.from_bytes(r[-2:], "big") for _, r in log.log]
    assert SmartTapSW.MORE_DATA in sws


def _hcekit_command() -> list[str]:
    exe = shutil.which("hcekit") or str(Path(sys.executable).with_name("hcekit"))
    if not Path(exe).exists():
        missing("the hcekit console script is not installed (pip install -e .)")
    return [exe]


def test_hcekit_tap_cli_runs_the_till_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    plugin = LoyaltyPlugin()
    served = pcsc_card(plugin, connect=False)
    result = served.run([*_hcekit_command(), "tap", "--reader", served.reader, "loyalty-till",
                         "-s", "op=earn", "-s", "points=7"], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Earned 7 points: balance 7" in result.stdout
    assert plugin.book is not None and plugin.book.balance(TEST_COLLECTOR_ID) == 7

"""Fixtures for the core tests: two recording plugins on a loopback rig."""

from __future__ import annotations

from typing import Any

import pytest
from hcekit import Category, Claim
from hcekit.testing import LoopbackRig, loopback_rig

from .routing_plugins import AID_A, AID_A2, AID_B, AID_PAY, Recorder


@pytest.fixture
def plugins() -> tuple[Recorder, Recorder]:
    a = Recorder("alpha", Claim(AID_A), Claim(AID_A2))
    pay = Claim(AID_PAY, Category.PAYMENT, "test pay", label="TESTPAY", priority=1)
    b = Recorder("beta", Claim(AID_B), pay)
    return a, b


@pytest.fixture
def rig(plugins: tuple[Recorder, Recorder]) -> Any:
    r: LoopbackRig = loopback_rig(list(plugins))
    with r.terminal.tap():
        yield r
    r.close()

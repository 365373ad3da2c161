"""Fixtures for the payment card tests: a loopback POS rig and the private PC/SC stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_payment import PaymentPlugin

__all__ = ["payment_card", "terminal"]


@pytest.fixture
def payment_card() -> Iterator[Card]:
    """A card with only the payment plugin, TEST-personalised in a memory store."""
    card = Card([PaymentPlugin()], store=MemoryStore())
    yield card
    card.close()


@pytest.fixture
def terminal(payment_card: Card) -> Iterator[Terminal]:
    """A loopback terminal with the field on."""
    term = Terminal(LoopbackTransport(LoopbackHost(payment_card)))
    with term.tap():
        yield term

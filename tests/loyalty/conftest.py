"""Loopback helpers for the loyalty tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hcekit.store import Store
from hcekit.terminal import LoopbackTransport, ScriptContext, Terminal, Transport
from hcekit.testing.loopback import LoopbackRig, loopback_rig
from hcekit_loyalty import LoyaltyPlugin
from hcekit_loyalty.programs import ProgramBook
from hcekit_loyalty.till import run_till

Mutator = Callable[[bytes, bytes], bytes]


class TamperingTransport:
    """A man in the middle: ``mutate(command, response)`` may rewrite what the card said;
    ``rewrite(command)`` what the till sent. Every exchange is logged."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.name = f"tampering-{inner.name}"
        self.mutate: Mutator | None = None
        self.rewrite: Callable[[bytes], bytes] | None = None
        self.log: list[tuple[bytes, bytes]] = []

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def transmit(self, command: bytes) -> bytes:
        if self.rewrite is not None:
            command = self.rewrite(command)
        response = self.inner.transmit(command)
        if self.mutate is not None:
            response = self.mutate(command, response)
        self.log.append((command, response))
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class LoyaltyRig:
    rig: LoopbackRig
    plugin: LoyaltyPlugin
    transport: TamperingTransport
    terminal: Terminal
    outputs: list[str] = field(default_factory=list)

    @property
    def book(self) -> ProgramBook:
        assert self.plugin.book is not None
        return self.plugin.book

    def till(self, extras: Mapping[str, Any] | None = None, **options: str) -> int:
        out = io.StringIO()
        with self.terminal.tap():  # as hcekit demo / hcekit tap do
            rc = run_till(ScriptContext(self.terminal, options, out, dict(extras or {})))
        self.outputs.append(out.getvalue())
        return rc

    @property
    def last_output(self) -> str:
        return self.outputs[-1]

    def sws(self) -> list[int]:
        return [int.from_bytes(r[-2:], "big") for _, r in self.transport.log]


RigMaker = Callable[..., LoyaltyRig]


@pytest.fixture
def make_rig() -> Iterator[RigMaker]:
    made: list[LoyaltyRig] = []

    def make(options: Mapping[str, Any] | None = None, store: Store | None = None) -> LoyaltyRig:
        plugin = LoyaltyPlugin()
        rig = loopback_rig([plugin], store=store, options={"loyalty": dict(options or {})})
        transport = TamperingTransport(LoopbackTransport(rig.host))
        loyalty = LoyaltyRig(rig, plugin, transport, Terminal(transport))
        made.append(loyalty)
        return loyalty

    yield make
    for r in made:
        r.rig.close()


@pytest.fixture
def lrig(make_rig: RigMaker) -> LoyaltyRig:
    """A card with the default TEST program only."""
    return make_rig()

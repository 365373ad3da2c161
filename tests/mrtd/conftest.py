"""A loopback eMRTD rig: the plugin on a Card, a Terminal that records the wire."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.trace import TraceRecord
from hcekit_mrtd import MrtdPlugin


class Rig:
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.plugin = MrtdPlugin()
        self.records: list[TraceRecord] = []
        self.card = Card([self.plugin, self], options={"mrtd": options or {}})
        self.wire: list[tuple[bytes, bytes]] = []
        self.terminal = Terminal(LoopbackTransport(LoopbackHost(self.card)),
                                 on_exchange=lambda c, r: self.wire.append((c, r)))

    name = "recorder"

    def hcekit_trace(self, record: TraceRecord) -> None:
        self.records.append(record)

    def channel_open(self) -> bool:
        selected = self.card.selected
        return selected is not None and selected.secure_channel is not None


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    with r.terminal.tap():
        yield r

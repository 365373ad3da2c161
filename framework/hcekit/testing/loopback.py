"""A card, its loopback host and a terminal, wired together in one call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..card import Card, CardConfig
from ..device import DeviceState
from ..hosts.loopback import LoopbackHost
from ..plugins import PluginSpec
from ..store import Store
from ..terminal import LoopbackTransport, Terminal

__all__ = ["LoopbackRig", "loopback_rig"]


@dataclass
class LoopbackRig:
    """Everything a loopback test touches."""

    card: Card
    host: LoopbackHost
    terminal: Terminal

    def close(self) -> None:
        self.card.close()


def loopback_rig(
    plugins: Iterable[PluginSpec] = (),
    *,
    installed: bool = False,
    store: Store | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    device: DeviceState | None = None,
    config: CardConfig | None = None,
) -> LoopbackRig:
    """Build a card with *plugins* (plus the installed ones if *installed*) on a loopback host."""
    kwargs: dict[str, Any] = {"store": store, "options": options, "config": config}
    card = Card.with_installed_plugins(plugins, **kwargs) if installed else Card(plugins, **kwargs)
    host = LoopbackHost(card, device)
    return LoopbackRig(card, host, Terminal(LoopbackTransport(host)))

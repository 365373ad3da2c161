"""A card, its loopback host and a terminal, wired together in one call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    only: Sequence[str] | None = None,
    store: Store | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    device: DeviceState | None = None,
    config: CardConfig | None = None,
) -> LoopbackRig:
    """Build a card with *plugins* on a loopback host, plus every installed plugin if
    *installed*, or the installed plugins named in *only* (entry-point names, e.g.
    ``["ndef", "access"]``; an unknown name is an error)."""
    kwargs: dict[str, Any] = {"store": store, "options": options, "config": config}
    if installed or only is not None:
        card = Card.with_installed_plugins(plugins, only=only, **kwargs)
    else:
        card = Card(plugins, **kwargs)
    host = LoopbackHost(card, device)
    return LoopbackRig(card, host, Terminal(LoopbackTransport(host)))

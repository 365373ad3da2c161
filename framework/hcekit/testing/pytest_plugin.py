"""pytest plugin (entry point ``pytest11``): fixtures for testing card plugins.

``hce_card_factory(plugins, installed=False, only=None, store=None, options=None, device=None)``
  builds a :class:`~hcekit.testing.LoopbackRig` (card + loopback host +
  terminal) and closes it after the test. ``only=["ndef", "access"]`` adds
  just these installed plugins (entry-point names, as ``hcekit plugins``
  lists them) to *plugins*: your card next to some built-ins.
``hce_plugins``
  override it (in your conftest or a test module) to choose the plugins the
  ``hce_*`` fixtures below use; default: every installed plugin.
``hce_rig``, ``hce_card``, ``hce_host``, ``hce_terminal``
  a rig built from ``hce_plugins``; the terminal is already in a tap (field on).
``pcscd``, ``pcsc_card``
  the same card behind a private, real pcscd + vpcd, reached through pyscard
  (see :mod:`hcekit.testing.pcsc` and ``docs/pcsc.md``).
``--hce-check PLUGIN``
  run the conformance suite against a plugin (:mod:`hcekit.conformance`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..plugins import PluginSpec
from .loopback import LoopbackRig, loopback_rig
from .pcsc import pcsc_card, pcscd

#: ``--hce-check PLUGIN`` / ``--hce-check-only CHECK``: the conformance suite as pytest tests.
pytest_plugins = ["hcekit.conformance.pytest_plugin"]

__all__ = ["hce_card", "hce_card_factory", "hce_host", "hce_plugins", "hce_rig", "hce_terminal",
           "pcsc_card", "pcscd"]

RigFactory = Callable[..., LoopbackRig]

#: Markers the fixtures' documentation asks tests to carry; registered here so that plugin
#: projects running with ``--strict-markers`` need not declare them.
MARKERS = {
    "pcsc": "needs pcscd + vsmartcard-vpcd (the pcscd/pcsc_card fixtures start them privately)",
    "interop": "talks to a third-party client (OpenSC, yubico-piv-tool, emvtool …)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


@pytest.fixture
def hce_card_factory() -> Iterator[RigFactory]:
    """``make(plugins, only=…, store=…, options=…)`` → a rig, closed after the test."""
    rigs: list[LoopbackRig] = []

    def make(plugins: Any = (), **kwargs: Any) -> LoopbackRig:
        rig = loopback_rig(plugins, **kwargs)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def hce_plugins() -> list[PluginSpec] | None:
    """The plugins for ``hce_rig``; ``None`` means every installed plugin."""
    return None


@pytest.fixture
def hce_rig(
    hce_card_factory: RigFactory, hce_plugins: list[PluginSpec] | None
) -> Iterator[LoopbackRig]:
    """A rig of ``hce_plugins``, its terminal already in a tap."""
    if hce_plugins is None:
        rig = hce_card_factory((), installed=True)
    else:
        rig = hce_card_factory(hce_plugins)
    with rig.terminal.tap():
        yield rig


@pytest.fixture
def hce_card(hce_rig: LoopbackRig) -> Any:
    """The ``hce_rig``'s card."""
    return hce_rig.card


@pytest.fixture
def hce_host(hce_rig: LoopbackRig) -> Any:
    """The ``hce_rig``'s loopback host."""
    return hce_rig.host


@pytest.fixture
def hce_terminal(hce_rig: LoopbackRig) -> Any:
    """The ``hce_rig``'s terminal, in a tap (field on)."""
    return hce_rig.terminal

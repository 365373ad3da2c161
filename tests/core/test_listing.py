"""A listing reads claims and options without starting a plugin: no personalisation, no keys."""

from __future__ import annotations

import pytest
from hcekit import Claim, PluginContext
from hcekit.errors import PluginLoadError
from hcekit.listing import list_plugin
from hcekit.options import OptionGroup
from hcekit.plugins import installed_plugins, resolve_plugins

AID = bytes.fromhex("F0112233445566")


class Counting:
    """Claims from its options; counts its startups (a listing must cause none)."""

    name = "counting"

    def __init__(self) -> None:
        self.startups = 0

    def hcekit_addoption(self, options: OptionGroup) -> None:
        options.add("suffix", type=bytes, default=b"\x01")

    def hcekit_startup(self, plugin: PluginContext) -> None:
        self.startups += 1
        plugin.store.set("personalised", b"yes")

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID + plugin.options["suffix"], description="counting")]


class NeedsStartup(Counting):
    """Claims only what its startup computed (the listing falls back to a throwaway card)."""

    name = "needs-startup"

    def __init__(self) -> None:
        super().__init__()
        self.aid: bytes | None = None

    def hcekit_startup(self, plugin: PluginContext) -> None:
        super().hcekit_startup(plugin)
        self.aid = AID + b"\x02"

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        if self.aid is None:
            raise RuntimeError("not started")
        return [Claim(self.aid, description="from startup")]


def test_claims_and_options_are_listed_without_a_startup() -> None:
    plugin = Counting()
    listing = list_plugin("counting", plugin)
    assert plugin.startups == 0 and not listing.started
    assert [c.aid for c in listing.claims] == [AID + b"\x01"]  # the declared default applied
    assert [o.name for o in listing.options] == ["suffix"]


def test_claims_that_need_startup_come_from_a_throwaway_card_and_say_so() -> None:
    plugin = NeedsStartup()
    listing = list_plugin("needs-startup", plugin)
    assert listing.started and plugin.startups == 1
    assert [c.aid for c in listing.claims] == [AID + b"\x02"]


def test_an_invalid_plugin_is_refused_with_its_name() -> None:
    class Orphan:
        def hcekit_process(self, app: object, command: object) -> bytes:
            return b""

    with pytest.raises(PluginLoadError, match=r"'orphan'.*hcekit_claims"):
        list_plugin("orphan", Orphan())


@pytest.mark.parametrize("name", [name for name, _ in installed_plugins()])
def test_every_installed_plugin_lists_its_claims_unstarted(name: str) -> None:
    """No built-in plugin personalises (or generates a key) to be listed."""
    ((_, plugin),) = resolve_plugins(installed_plugins([name]))
    listing = list_plugin(name, plugin)
    assert not listing.started
    assert listing.claims

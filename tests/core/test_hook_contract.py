"""The hook contract: owner-only hooks refuse what they would not honour, broadcast hooks honour it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from hcekit import SW, AppContext, Card, Claim, CommandApdu, PluginContext, hookimpl
from hcekit.atr import contactless_atr
from hcekit.errors import PluginLoadError
from hcekit.hookspecs import OWNER_ONLY_HOOKS
from hcekit.plugins import installed_plugin_manager
from hcekit.trace import TraceRecord

AID = bytes.fromhex("F0A1B2C3D401")
SELECT = CommandApdu(0x00, 0xA4, 0x04, 0x00, AID, 256)
PING = CommandApdu(0x80, 0x01, 0x00, 0x00, b"", 256)


class Owner:
    """Owns AID and answers PING with 'own'."""

    name = "owner"

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID)]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return b"own"


class WrappingProcess:
    """A second plugin trying to wrap every plugin's hcekit_process."""

    name = "wrapper"

    @hookimpl(wrapper=True)
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> Generator[None, Any, Any]:
        result = yield
        return b"wrapped:" + result


class OwnerWithWrapper(Owner):
    """The owner itself marking its process hook as a wrapper (it would answer a generator)."""

    name = "owner-wrapper"

    @hookimpl(wrapper=True)
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> Generator[None, Any, Any]:
        return (yield)


class OrphanProcess:
    """Implements hcekit_process but claims nothing: it could never be called."""

    name = "orphan"

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return b"never"


def test_a_wrapper_on_another_plugins_process_is_refused_at_load_time() -> None:
    with pytest.raises(PluginLoadError, match=r"'wrapper'.*wrapper=True.*hcekit_process.*owner-only"):
        Card([Owner(), WrappingProcess()])


def test_a_wrapper_on_the_owners_process_is_refused_too() -> None:
    with pytest.raises(PluginLoadError, match=r"'owner-wrapper'.*wrapper=True.*hcekit_process"):
        Card([OwnerWithWrapper()])


def test_a_refused_plugin_leaves_a_running_card_as_it_was() -> None:
    card = Card([Owner()])
    refused = WrappingProcess()
    with pytest.raises(PluginLoadError, match="wrapper=True"):
        card.register(refused)
    assert list(card.plugins) == ["owner"]
    assert not card.plugin_manager.is_registered(refused)
    card.transmit(SELECT)
    assert card.transmit(PING).data == b"own"


def _plugin_with(hook: str, **opts: bool) -> object:
    """A claiming plugin whose *hook* carries hookimpl *opts*."""
    def impl(*args: object) -> None:
        return None

    impl.__name__ = hook
    namespace: dict[str, object] = {
        "name": f"marked-{hook}",
        "hcekit_claims": hookimpl(lambda self, plugin: [Claim(AID)]),
        hook: hookimpl(**opts)(impl),  # type: ignore[call-overload]
    }
    return type("Marked", (), namespace)()


@pytest.mark.parametrize("option", ["tryfirst", "trylast", "hookwrapper", "wrapper"])
@pytest.mark.parametrize("hook", sorted(OWNER_ONLY_HOOKS - {"hcekit_claims"}))
def test_every_call_option_on_every_owner_only_hook_is_refused(hook: str, option: str) -> None:
    with pytest.raises(PluginLoadError, match=rf"@hookimpl\({option}=True\) on {hook} is not honoured"):
        Card([_plugin_with(hook, **{option: True})])


def test_tryfirst_on_select_is_refused_by_the_cli_plugin_manager_as_well() -> None:
    pm = installed_plugin_manager()
    with pytest.raises(PluginLoadError, match=r"tryfirst=True.*hcekit_select"):
        pm.register(_plugin_with("hcekit_select", tryfirst=True), name="late")
    assert pm.get_plugin("late") is None


def test_application_hooks_without_claims_are_refused() -> None:
    with pytest.raises(PluginLoadError, match=r"'orphan' implements hcekit_process but not hcekit_claims"):
        Card([Owner(), OrphanProcess()])


def test_specname_on_an_owner_only_hook_is_honoured() -> None:
    class Renamed(Owner):
        name = "renamed"

        @hookimpl(specname="hcekit_process")
        def answer(self, app: AppContext, command: CommandApdu) -> bytes:
            return b"via specname"

    card = Card([Renamed()])
    card.transmit(SELECT)
    assert card.transmit(PING).data == b"via specname"


def test_a_misspelt_hook_is_still_an_error() -> None:
    class Typo(Owner):
        name = "typo"

        def hcekit_proccess(self, app: AppContext, command: CommandApdu) -> bytes:
            return b""

    with pytest.raises(PluginLoadError, match="hcekit_proccess"):
        Card([Typo()])


# -- broadcast hooks go through pluggy: their options are honoured -------------------------


class Atr:
    def __init__(self, name: str, historical: bytes) -> None:
        self.name = name
        self.atr = contactless_atr(historical)

    @hookimpl
    def hcekit_atr(self, card: Card) -> bytes:
        return self.atr


class FirstAtr(Atr):
    @hookimpl(tryfirst=True)
    def hcekit_atr(self, card: Card) -> bytes:
        return self.atr


def test_tryfirst_on_hcekit_atr_decides_which_atr_wins_silently(
        caplog: pytest.LogCaptureFixture) -> None:
    first = FirstAtr("zfirst", b"\x01")
    for order in ([first, Atr("later", b"\x02")], [Atr("later", b"\x02"), first]):
        assert Card(order).atr() == first.atr
    assert "hcekit_atr" not in caplog.text


def test_two_unranked_atrs_pick_the_first_name_whatever_the_load_order_and_warn(
        caplog: pytest.LogCaptureFixture) -> None:
    """Not pluggy's "last registered wins": the same card in any order presents one ATR."""
    hotel, badge = Atr("hotel", b"\x03"), Atr("badge", b"\x04")
    for order in ([hotel, badge], [badge, hotel]):
        caplog.clear()
        assert Card(order).atr() == badge.atr
        assert "plugins 'badge', 'hotel' all answer hcekit_atr; presenting 'badge'" in caplog.text


def test_a_wrapper_on_hcekit_atr_is_refused() -> None:
    class Wrapping:
        name = "wrapping"

        @hookimpl(wrapper=True)
        def hcekit_atr(self, card: Card) -> Generator[None, bytes | None, bytes | None]:
            return (yield)

    with pytest.raises(PluginLoadError, match=r"wrapper=True\) on hcekit_atr is not honoured"):
        Card([Wrapping()])


def test_no_plugin_atr_is_none_and_a_malformed_one_names_the_hook() -> None:
    assert Card([Owner()]).atr() is None

    class Broken(Atr):
        @hookimpl
        def hcekit_atr(self, card: Card) -> bytes:
            return b"\x3b\x80\x80\x01\x00"  # wrong TCK

    with pytest.raises(PluginLoadError, match=r"hcekit_atr.*TCK"):
        Card([Broken("broken", b"")]).atr()


def test_a_wrapper_on_a_broadcast_hook_runs() -> None:
    seen: list[str] = []

    class Inner:
        name = "inner"

        @hookimpl
        def hcekit_trace(self, record: TraceRecord) -> None:
            seen.append("inner")

    class Outer:
        name = "outer"

        @hookimpl(wrapper=True)
        def hcekit_trace(self, record: TraceRecord) -> Generator[None, None, None]:
            seen.append("before")
            yield
            seen.append("after")

    card = Card([Owner(), Inner(), Outer()])
    card.transmit(SELECT)
    assert seen == ["before", "inner", "after"]


def test_the_selected_plugin_alone_answers_without_a_broadcast() -> None:
    class Other:
        name = "other"

        @hookimpl
        def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
            return [Claim(bytes.fromhex("F0A1B2C3D402"))]

        @hookimpl
        def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
            raise AssertionError("called for another plugin's application")

    card = Card([Owner(), Other()])
    card.transmit(SELECT)
    response = card.transmit(PING)
    assert (response.data, response.sw) == (b"own", SW.NO_ERROR)


def test_every_built_in_plugin_class_lives_in_its_packages_plugin_module() -> None:
    """One naming rule: ``hcekit_<name>/plugin.py`` holds the hook class, re-exported."""
    from hcekit.plugins import installed_plugins

    built_in = {name: obj for name, obj in installed_plugins()
                if getattr(obj, "__module__", "").startswith(f"hcekit_{name}")}
    assert {"access", "loyalty", "mrtd", "ndef", "payment", "transit"} <= set(built_in)
    for name, obj in built_in.items():
        assert obj.__module__ == f"hcekit_{name}.plugin", f"{name}: {obj.__module__}"
        assert getattr(__import__(f"hcekit_{name}"), obj.__name__) is obj


def test_every_hook_implementation_in_hcekit_is_marked() -> None:
    """One convention: hook implementations carry ``@hookimpl`` (unmarked ones still load)."""
    import ast
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    sources = [p for root in ("framework", "plugins", "android_host") for p in (repo / root).rglob("*.py")
               if p.name != "hookspecs.py"]
    assert len(sources) > 50
    unmarked = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("hcekit_") and not any(
                    "hookimpl" in ast.unparse(d) for d in node.decorator_list):
                unmarked.append(f"{path.relative_to(repo)}:{node.lineno} {node.name}")
    assert not unmarked, unmarked

"""Declared plugin options: checked, converted, defaulted; typos name the closest match."""

from __future__ import annotations

import pytest
from hcekit import Card, Claim, PluginContext, hookimpl
from hcekit.cli import main
from hcekit.errors import PluginLoadError
from hcekit.options import OptionError, OptionGroup, json_value

AID = bytes.fromhex("F0A1B2C3D401")


class Configured:
    """Declares one option of each kind and remembers what startup saw."""

    name = "conf"

    def __init__(self) -> None:
        self.seen: dict[str, object] | None = None

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        options.add("url", default="https://example.invalid/", help="where to go")
        options.add("limit", type=int, default=10, help="how many")
        options.add("enabled", type=bool, default=False, help="switch")
        options.add("key", type=bytes, secret=True, help="a key")
        options.add("mode", choices=("fast", "safe"), default="safe", help="how")
        options.add("table", type=json_value, help="structured")

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        self.seen = dict(plugin.options)

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID)]


class Silent:
    """Declares no options."""

    name = "silent"
    started = False

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        Silent.started = True


def _seen(**options: object) -> dict[str, object]:
    plugin = Configured()
    Card([plugin], options={"conf": options})
    assert plugin.seen is not None
    return plugin.seen


def test_defaults_are_filled_in_and_undeclared_defaults_left_out() -> None:
    assert _seen() == {"url": "https://example.invalid/", "limit": 10, "enabled": False,
                       "mode": "safe"}


def test_text_values_are_converted_to_the_declared_type() -> None:
    seen = _seen(limit="0x20", enabled="yes", key="01 02:03", mode="fast", table='{"a": [1]}')
    assert seen["limit"] == 32 and seen["enabled"] is True and seen["key"] == b"\x01\x02\x03"
    assert seen["mode"] == "fast" and seen["table"] == {"a": [1]}


def test_python_values_of_the_declared_type_are_taken_as_they_are() -> None:
    assert _seen(limit=7, enabled=True, key=b"\xaa")["key"] == b"\xaa"
    with pytest.raises(OptionError, match=r"option conf.limit: expected integer, got list"):
        _seen(limit=[7])


def test_a_typo_in_a_key_names_the_closest_option() -> None:
    with pytest.raises(OptionError, match=r"'conf' has no option 'limt' \(did you mean 'limit'\?\)"):
        _seen(limt="5")


def test_a_typo_in_a_plugin_name_names_the_closest_plugin() -> None:
    with pytest.raises(OptionError, match=r"'cnof'.*no such plugin.*\(did you mean 'conf'\?\)"):
        Card([Configured()], options={"cnof": {"url": "x"}})


@pytest.mark.parametrize(("key", "value", "message"), [
    ("limit", "ten", r"conf.limit='ten': not a valid integer"),
    ("enabled", "maybe", r"conf.enabled='maybe': not a valid boolean"),
    ("key", "zz", r"conf.key=\*\*\*: not a valid hex bytes"),  # a secret is never echoed
    ("mode", "fats", r"conf.mode='fats': must be one of fast, safe \(did you mean 'fast'\?\)"),
    ("table", "{", r"conf.table='\{': not a valid JSON"),
])
def test_ill_typed_values_are_errors(key: str, value: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        _seen(**{key: value})


def test_a_plugin_that_declares_nothing_accepts_nothing() -> None:
    with pytest.raises(OptionError, match=r"'silent' has no option 'x'.*declares: none"):
        Card([Silent()], options={"silent": {"x": "1"}})


def test_every_plugins_options_are_checked_before_any_plugin_starts() -> None:
    Silent.started = False
    with pytest.raises(OptionError):
        Card([Silent(), Configured()], options={"conf": {"limit": "ten"}})
    assert not Silent.started


def test_option_errors_are_plugin_load_errors() -> None:
    assert issubclass(OptionError, PluginLoadError) and issubclass(OptionError, ValueError)


def test_bad_declarations_are_refused() -> None:
    group = OptionGroup("p")
    group.add("a")
    with pytest.raises(OptionError, match="twice"):
        group.add("a")
    with pytest.raises(OptionError, match="identifiers"):
        group.add("not-a-name")
    with pytest.raises(OptionError, match="not one of its choices"):
        group.add("b", default="c", choices=("d",))


def test_cli_option_typos_fail_with_the_closest_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--only", "ndef", "--option", "ndef.urll=x", "00A4040000"]) == 2
    assert "has no option 'urll' (did you mean 'url'?)" in capsys.readouterr().err
    assert main(["send", "--only", "ndef", "--option", "ndeff.url=x", "00A4040000"]) == 2
    assert "'ndeff': no such plugin on this card (did you mean 'ndef'?)" in capsys.readouterr().err
    assert main(["send", "--only", "ndef", "--option", "ndef.max_size=big", "00A4040000"]) == 2
    assert "ndef.max_size='big': not a valid integer" in capsys.readouterr().err


def test_plugins_and_serve_help_list_the_declared_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    main(["plugins"])
    out = capsys.readouterr().out
    assert "option ndef.url (text, default 'https://hcekit.invalid/demo')" in out
    assert "option transit.uid (hex bytes)" in out
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "plugin options (--option PLUGIN.KEY=VALUE):" in out
    assert "ndef.writable (boolean, default False)" in out
    assert "payment.imk (hex bytes)" in out


class Ranged:
    """Checks its option's range at start-up, as docs/plugin-authoring.md's stamp card does."""

    name = "ranged"

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        options.add("goal", type=int, default=10, help="1..99")

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        if not 1 <= plugin.options["goal"] <= 99:
            raise OptionError(f"ranged.goal must be 1..99, got {plugin.options['goal']}")

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID)]


def test_a_value_refused_at_startup_is_an_option_error_and_exit_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(OptionError, match=r"plugin 'ranged' refused its options: .*got 0"):
        Card([Ranged()], options={"ranged": {"goal": 0}})
    assert Card([Ranged()], options={"ranged": {"goal": 99}}).plugins["ranged"].options["goal"] == 99
    code = main(["send", "--no-installed", "--store", ":memory:",
                 "--plugin", "tests.core.test_options:Ranged", "--option", "ranged.goal=100",
                 "00A4040006F0A1B2C3D401"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("hcekit: error: plugin 'ranged' refused its options")

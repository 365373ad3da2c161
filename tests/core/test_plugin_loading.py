"""Only what a card uses is loaded: ``only=`` picks entry points by name before any is imported.

Each check runs in a fresh interpreter and reads its ``sys.modules``, since
this test process has imported every plugin long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hcekit.errors import PluginLoadError
from hcekit.plugins import ENTRY_POINT_GROUP, installed_plugins


def _packages() -> dict[str, str]:
    """Installed plugin name → the top-level package its entry point imports."""
    return {ep.name: ep.module.partition(".")[0] for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _modules_after(code: str, *args: str) -> dict[str, list[str]]:
    """Run *code* in a fresh interpreter; it prints a JSON object as its last line."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return found


_ONE_PLUGIN_CARD = """
import json, sys
from hcekit import Card
from hcekit.store import MemoryStore
with Card.with_installed_plugins(only=[sys.argv[1]], store=MemoryStore()) as card:
    plugins = sorted(card.plugins)
print(json.dumps({"plugins": plugins, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("name", sorted(_packages()))
def test_a_one_plugin_card_imports_no_other_plugins_modules(name: str) -> None:
    packages = _packages()
    seen = _modules_after(_ONE_PLUGIN_CARD, name)
    assert name in seen["plugins"]
    assert packages[name] in seen["modules"]  # the probe sees the plugin it loaded
    others = {package for other, package in packages.items() if package != packages[name]}
    leaked = [m for m in seen["modules"] if m.partition(".")[0] in others]
    assert leaked == [], f"a card with only {name!r} imported {leaked}"


def test_an_unknown_name_is_refused_by_name() -> None:
    with pytest.raises(PluginLoadError, match="no installed plugin named nosuch"):
        installed_plugins(["ndef", "nosuch"])


_CLI_SEND = """
import contextlib, io, json, sys
from hcekit.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["send", "--only", sys.argv[1], "--store", ":memory:", sys.argv[2]])
print(json.dumps({"out": [out.getvalue(), str(code)], "modules": sorted(sys.modules)}))
"""


def test_the_cli_with_only_imports_no_other_plugins_modules() -> None:
    """``hcekit send --only ndef``: the parser leaves out the other plugins' sub-commands."""
    packages = _packages()
    seen = _modules_after(_CLI_SEND, "ndef", "00A4040007D276000085010100")
    printed, code = seen["out"]
    assert code == "0" and "90 00" in printed, printed
    others = {package for other, package in packages.items() if package != packages["ndef"]}
    leaked = [m for m in seen["modules"] if m.partition(".")[0] in others]
    assert leaked == [], f"hcekit send --only ndef imported {leaked}"


@pytest.mark.parametrize("package", ["hcekit", "hcekit.sm", *sorted(set(_packages().values()))])
def test_every_lazily_exported_name_resolves(package: str) -> None:
    """The packages re-export through ``hcekit.lazy``: each name in ``__all__`` must import."""
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


_COLD_TAP = """
import json, sys
from hcekit import Card
from hcekit.store import open_store
store = open_store(sys.argv[1])
only = sys.argv[2].split(",") if sys.argv[2] else None
with Card.with_installed_plugins(only=only, store=store) as card:
    card.field_on()
    sw = card.transceive(bytes.fromhex(sys.argv[3]))[-2:].hex()
    modules = sorted(sys.modules)
store.close()
print(json.dumps({"sw": [sw], "modules": modules}))
"""
#: SELECT of the transit application by its DF name (answered 9000 by every card with transit).
_SELECT_TRANSIT = "00A404000BF04843455452414E53495400"


@pytest.mark.parametrize(("only", "heavy"), [
    ("transit", ["cryptography", "hcekit.polling", "hcekit.trace", "logging", "zlib"]),
    ("transit,payment", ["cryptography", "hcekit.polling", "hcekit.trace", "logging"]),
    # every plugin (the access badge reads a certificate, so cryptography loads)
    ("", ["hcekit.polling", "hcekit.trace", "logging"]),
])
def test_a_cold_tap_loads_no_cipher_filter_or_logging_it_does_not_use(
        only: str, heavy: list[str], tmp_path: Path) -> None:
    """After the first SELECT on a personalised store: the ciphers wait for the first
    authentication or transaction, hcekit.polling for a plugin that declares a polling loop,
    hcekit.trace for an observer, logging for a record that someone could see."""
    store = str(tmp_path / "card.sqlite")
    _modules_after(_COLD_TAP, store, only, _SELECT_TRANSIT)  # the empty store is personalised
    seen = _modules_after(_COLD_TAP, store, only, _SELECT_TRANSIT)
    assert seen["sw"] == ["9000"]
    assert [m for m in heavy if m in seen["modules"]] == []


def test_the_polling_router_is_built_when_a_host_asks_for_it() -> None:
    """Nothing declared: ``card.polling`` still works, built on first use, and empty."""
    from hcekit import Card
    from hcekit.store import MemoryStore

    with Card.with_installed_plugins(only=["ndef"], store=MemoryStore()) as card:
        assert card.polling is card.polling
        assert card.polling.filters() == [] and card.polling.answers_reader()
        card.field_off()

"""Only what a card uses is loaded: ``only=`` picks entry points by name before any is imported.

Each check runs in a fresh interpreter and reads its ``sys.modules``, since
this test process has imported every plugin long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

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

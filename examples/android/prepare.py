"""Put everything buildozer needs next to buildozer.spec (run from a hcekit source checkout).

Writes, into this directory (or the one given):

- ``p4a/res/``                        the service's resources (the AID groups in
                                      ``xml/hcekit_apduservice.xml`` and their strings);
                                      the hook copies them into the APK's ``res/``
- ``p4a/hcekit_service.xml``          the ``<service>`` element the hook inserts, in the
                                      process of the Python service ``hcekit``
- ``p4a/hcekit_p4a_hook.py``          the python-for-android hook (``p4a.hook``)
- ``java/``                           the shim's Java sources (``android.add_src``)
- ``hcekit/``, ``hcekit_ndef/``, ``hcekit_android/``  the Python packages, as app code
- ``app_plugins.py``                  ``PLUGINS``, the plugin classes ``service.py`` runs

``--plugin MODULE:CLASS`` (repeatable) adds a third-party plugin: install it in
the environment that runs this script first (``pip install --no-index
--find-links wheels hcekit-stamp-card``, docs/tutorial.md §8); its top-level
package is copied as app code, its claims join the AID XML, and it joins
``PLUGINS`` (copied packages carry no entry points, so the app names them).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from hcekit import Card
from hcekit.plugins import load_object
from hcekit_android.jvm import SHIM_SOURCES
from hcekit_android.manifest import service_xml, write_res

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "hcekit": REPO / "framework" / "hcekit",
    "hcekit_ndef": REPO / "plugins" / "ndef" / "hcekit_ndef",
    "hcekit_android": REPO / "android_host" / "hcekit_android",
}
HOOK = REPO / "android_host" / "hcekit_android" / "p4a_hook.py"
#: buildozer.spec: services = hcekit:service.py
PYTHON_SERVICE = "hcekit"
#: The example's own card; --plugin adds more.
BUILT_IN = ("hcekit_ndef:NdefPlugin",)


def _package_dir(spec: str) -> tuple[str, Path]:
    """The top-level import package of plugin *spec* (``module:Class``) and where it is."""
    top = spec.partition(":")[0].split(".")[0]
    module = importlib.import_module(top)
    if module.__file__ is None or Path(module.__file__).name != "__init__.py":
        raise SystemExit(f"prepare.py: {spec}: {top} is not a package directory to copy")
    return top, Path(module.__file__).parent


def _plugins_module(specs: Sequence[str]) -> str:
    lines = ['"""Written by prepare.py: the plugins service.py runs."""', ""]
    names = []
    for spec in specs:
        module, _, attr = spec.partition(":")
        lines.append(f"from {module} import {attr}")
        names.append(attr)
    return "\n".join([*lines, "", f"PLUGINS = [{', '.join(names)}]", ""])


def prepare(target: Path, plugins: Sequence[str] = ()) -> None:
    specs = [*BUILT_IN, *plugins]
    with Card([load_object(spec) for spec in specs]) as card:
        claims = card.claims()
    (target / "app_plugins.py").write_text(_plugins_module(specs), encoding="utf-8")
    hook_dir = target / "p4a"
    shutil.rmtree(hook_dir / "res", ignore_errors=True)
    write_res(hook_dir / "res", claims, description="hcekit NDEF tag")
    (hook_dir / "hcekit_service.xml").write_text(
        service_xml(python_service=PYTHON_SERVICE), encoding="utf-8")
    shutil.copy2(HOOK, hook_dir / "hcekit_p4a_hook.py")
    shutil.rmtree(target / "java", ignore_errors=True)
    shutil.copytree(SHIM_SOURCES, target / "java")
    packages = dict(PACKAGES)
    packages.update(_package_dir(spec) for spec in plugins)
    for name, source in packages.items():
        shutil.rmtree(target / name, ignore_errors=True)
        shutil.copytree(source, target / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "java"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE:CLASS",
                        help="also put this installed third-party plugin into the app")
    args = parser.parse_args()
    prepare(args.target, args.plugin)
    print(f"prepared {args.target}; now: buildozer android debug", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Put everything buildozer needs next to buildozer.spec (run from a hcekit source checkout).

Writes, into this directory (or the one given):

- ``p4a/res/``                        the service's resources: the AID groups
                                      (``xml/hcekit_apduservice.xml``), their strings and
                                      the hook copies them into the APK's ``res/``
- ``p4a/hcekit_service.xml``          the ``<service>`` element the hook inserts, in the
                                      process of the Python service ``hcekit``
- ``p4a/hcekit_p4a_hook.py``          the python-for-android hook (``p4a.hook``)
- ``java/``                           the shim's Java sources (``android.add_src``)
- ``hcekit/``, ``hcekit_ndef/``, ``hcekit_android/``  the Python packages, as app code
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from hcekit import Card
from hcekit_android.jvm import SHIM_SOURCES
from hcekit_android.manifest import service_xml, write_res
from hcekit_ndef import NdefPlugin

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "hcekit": REPO / "framework" / "hcekit",
    "hcekit_ndef": REPO / "plugins" / "ndef" / "hcekit_ndef",
    "hcekit_android": REPO / "android_host" / "hcekit_android",
}
HOOK = REPO / "android_host" / "hcekit_android" / "p4a_hook.py"
#: buildozer.spec: services = hcekit:service.py
PYTHON_SERVICE = "hcekit"


def prepare(target: Path) -> None:
    with Card([NdefPlugin]) as card:
        claims = card.claims()
    hook_dir = target / "p4a"
    shutil.rmtree(hook_dir / "res", ignore_errors=True)
    write_res(hook_dir / "res", claims, description="hcekit NDEF tag")
    (hook_dir / "hcekit_service.xml").write_text(
        service_xml(python_service=PYTHON_SERVICE), encoding="utf-8")
    shutil.copy2(HOOK, hook_dir / "hcekit_p4a_hook.py")
    shutil.rmtree(target / "java", ignore_errors=True)
    shutil.copytree(SHIM_SOURCES, target / "java")
    for name, source in PACKAGES.items():
        shutil.rmtree(target / name, ignore_errors=True)
        shutil.copytree(source, target / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "java"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    prepare(args.target)
    print(f"prepared {args.target}; now: buildozer android debug", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One atheris (libFuzzer) process fuzzing one target.

The runner (:mod:`.runner`) starts ``python -c BOOTSTRAP TARGET [libFuzzer
options] CORPUS_DIR`` per target, with ``HCEKIT_FUZZ_INSTRUMENT`` naming the
top-level modules to instrument (hcekit and the plugin's package), so only
that code carries coverage feedback and start-up stays fast. TARGET is
``core``, an installed plugin name or ``module:attr``; pass a crash file
instead of the corpus directory to reproduce a crash. The runner reads
libFuzzer's ``Done N runs`` line and ``HCEKIT-PLUGIN-EXCEPTION:`` lines.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from ..plugins import ENTRY_POINT_GROUP
from .target import FuzzTarget, core_target, plugin_target

__all__ = ["BOOTSTRAP", "PLUGIN_EXCEPTION_TAG", "build_target", "instrumented_modules", "fuzz"]

PLUGIN_EXCEPTION_TAG = "HCEKIT-PLUGIN-EXCEPTION:"
INSTRUMENT_ENV = "HCEKIT_FUZZ_INSTRUMENT"

#: The child process: instrument hcekit and the plugin while importing them, then fuzz.
BOOTSTRAP = (
    "import os, sys, atheris\n"
    f"with atheris.instrument_imports(include=os.environ['{INSTRUMENT_ENV}'].split(',')):\n"
    "    from hcekit.fuzzing.atheris_main import build_target, fuzz\n"
    "    target = build_target(sys.argv[1])\n"
    "fuzz(target, sys.argv)\n"
)


def build_target(name: str) -> FuzzTarget:
    return core_target() if name == "core" else plugin_target(name)


def instrumented_modules(name: str) -> list[str]:
    """Top-level packages whose code gets coverage feedback for target *name*."""
    modules = ["hcekit"]
    if name == "core":
        return modules
    value = name
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            value = ep.value
    root = value.split(":", 1)[0].split(".", 1)[0]
    if root and root not in modules:
        modules.append(root)
    return modules


def fuzz(target: FuzzTarget, argv: Sequence[str]) -> None:
    """Hand *target* to libFuzzer (never returns: libFuzzer exits the process)."""
    import atheris

    reported: set[str] = set()

    def test_one_input(data: bytes) -> None:
        target.one_input(data)
        if len(target.plugin_exceptions) != len(reported):
            for site in target.plugin_exceptions:
                if site not in reported:
                    reported.add(site)
                    print(f"{PLUGIN_EXCEPTION_TAG} {site} (input {data.hex()})",
                          file=sys.stderr, flush=True)

    atheris.Setup(["hcekit-fuzz", *argv[2:]], test_one_input)
    atheris.Fuzz()

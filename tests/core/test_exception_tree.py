"""Every exception hcekit and its built-in plugins define is an HcekitError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
from hcekit.errors import HcekitError

PACKAGES = ("hcekit", "hcekit_access", "hcekit_loyalty", "hcekit_mrtd", "hcekit_ndef",
            "hcekit_payment", "hcekit_transit", "hcekit_android")

#: Deliberate exceptions to the rule, with the reason.
OUTSIDE_THE_TREE = {
    # Runs inside python-for-android's build, where hcekit is not importable.
    "hcekit_android.p4a_hook.ManifestHookError",
    # A failed conformance check / a fuzz finding is an assertion (pytest reports it as one).
    "hcekit.conformance.checks.CheckFailed",
    "hcekit.fuzzing.target.FuzzCrash",
}

#: Modules that start something on import (a fuzzer main) are not walked.
NOT_IMPORTED = {"hcekit.fuzzing.atheris_main", "hcekit.cli.__main__", "hcekit.__main__"}


def _modules() -> list[ModuleType]:
    found = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if info.name not in NOT_IMPORTED:
                found.append(importlib.import_module(info.name))
    return found


def _exceptions() -> list[type[BaseException]]:
    seen: dict[str, type[BaseException]] = {}
    for module in _modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            # Private ones (``_Deny``) are control flow that never leaves its module.
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__ \
                    and not obj.__name__.startswith("_"):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(seen.values())


def test_the_walk_finds_the_exceptions_the_issue_named() -> None:
    names = {e.__name__ for e in _exceptions()}
    assert {"HceError", "AtrError", "TraceFormatError", "PersonalizationError", "PosError",
            "OptionError"} <= names


@pytest.mark.parametrize("exc", _exceptions(), ids=lambda e: f"{e.__module__}.{e.__qualname__}")
def test_every_exception_is_an_hcekit_error(exc: type[BaseException]) -> None:
    name = f"{exc.__module__}.{exc.__qualname__}"
    if name in OUTSIDE_THE_TREE:
        assert not issubclass(exc, HcekitError), f"{name} joined the tree; drop it from the list"
        return
    assert issubclass(exc, HcekitError), f"{name} is outside hcekit.errors.HcekitError"

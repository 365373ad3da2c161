"""Fuzzing for plugin authors and for hcekit itself.

* :mod:`.strategies` — hypothesis strategies for command APDUs (well-formed,
  malformed, SELECTs) to use in property tests.
* :mod:`.target` — a fuzz target: one card plus a decoder turning arbitrary
  bytes into a tap of APDUs, checking the card never breaks its contract.
* :mod:`.runner` — ``hcekit fuzz``: runs the core and every installed plugin
  under atheris (coverage-guided libFuzzer) or a seeded random engine, for a
  time or input budget, and reports inputs run and crashes.
"""

from .target import CoreFuzzApp, FuzzCrash, FuzzTarget, core_target, plugin_target

__all__ = ["CoreFuzzApp", "FuzzCrash", "FuzzTarget", "core_target", "plugin_target"]

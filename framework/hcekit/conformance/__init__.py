"""The conformance suite every plugin runs: ``hcekit check PLUGIN`` or from pytest.

Checks (each independent, each on fresh cards with a fresh plugin instance):

- ``claims``: the plugin loads; its AID claims are valid and overlap no other installed plugin
  nor the core's own (the PPSE).
- ``select``: SELECT of each claim answers 9000 and selects it; repeated SELECT works; an FCI
  (tag 6F) is valid BER-TLV; a failed SELECT leaves the selection alone.
- ``unknown-ins``: INS 60/6F/90/9F (invalid in ISO 7816) answer 6D00 (or 6E00).
- ``unknown-cla``: CLA FF answers 6E00, logical channels 6881, declared unknown classes 6E00.
- ``malformed``: malformed APDUs and every INS with odd P1-P2/data get well-formed answers and
  no plugin exception (an exception is a 6F00 and a logged traceback); and the ISO/IEC 7816-4
  Ne rules on every SELECT and declared read: Le 00 = 256, Le 0000 = 65536 (the first
  min(Ne, all) bytes), a READ BINARY with Le 00 reads to the end of the file, and a READ
  BINARY without Le (case 1, Ne = 0) returns no data.
- ``deselect``: deselect, field loss and DESELECTED deactivation raise nothing; reselect works.
- ``restart``: demo scripts pass; the SQLite store is unchanged by close + reopen + startup.
- ``secrets``: no key material from the store appears in the redacted trace or the logs.

A plugin may tune the probes with a ``conformance`` attribute (a dict):
``{"unknown_cla": [0xB0], "unknown_ins": [(0x80, 0x42)], "skip": {"restart": "why"},
"reads": [{"aid": "D2760000850101", "before": ["00A4000C02E104"], "read": "00B00000"}]}``;
``reads`` names commands that return data (hex, without Le) for the Ne rules, or
:class:`~hcekit.conformance.checks.ReadProbe` objects for reads that need a session.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..plugins import PluginSpec
from .checks import CHECKS, CheckFailed, CheckSkipped
from .harness import Harness, PluginUnderTest, capture_logs, resolve_plugin_under_test

__all__ = [
    "CHECKS",
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "ConformanceReport",
    "PluginUnderTest",
    "resolve_plugin_under_test",
    "run_check",
    "run_conformance",
]

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str = ""


@dataclass
class ConformanceReport:
    plugin: str
    origin: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    def format(self) -> str:
        lines = [f"hcekit conformance: {self.plugin} ({self.origin})"]
        for r in self.results:
            lines.append(f"  {r.status.upper():<8} {r.name}")
            if r.detail:
                lines.extend(f"           {line}" for line in r.detail.splitlines())
        counts = {s: sum(r.status == s for r in self.results)
                  for s in ("passed", "failed", "skipped")}
        lines.append(f"{counts['passed']} passed, {counts['failed']} failed, "
                     f"{counts['skipped']} skipped")
        return "\n".join(lines)


def _run(harness: Harness, name: str, tmp: Path) -> CheckResult:
    if name not in CHECKS:
        raise KeyError(f"no conformance check named {name!r}; checks: {', '.join(CHECKS)}")
    skip = harness.plugin.options().get("skip", {})
    if isinstance(skip, dict) and name in skip:
        return CheckResult(name, "skipped", f"skipped by the plugin: {skip[name]}")
    try:
        with capture_logs():  # plugins' start-up chatter is not part of the report
            CHECKS[name](harness, tmp)
    except CheckSkipped as exc:
        return CheckResult(name, "skipped", str(exc))
    except CheckFailed as exc:
        return CheckResult(name, "failed", str(exc))
    except Exception as exc:
        return CheckResult(name, "failed", f"the check could not run: {type(exc).__name__}: {exc}")
    return CheckResult(name, "passed")


def run_check(plugin: PluginSpec | PluginUnderTest, name: str, tmp: Path) -> CheckResult:
    """Run one check; *tmp* is a scratch directory for its SQLite store."""
    put = plugin if isinstance(plugin, PluginUnderTest) else resolve_plugin_under_test(plugin)
    return _run(Harness(put), name, tmp)


def run_conformance(
    plugin: PluginSpec | PluginUnderTest,
    checks: Iterable[str] | None = None,
    tmp: Path | None = None,
) -> ConformanceReport:
    """Run the suite (or some *checks*) against *plugin*: an installed name, ``module:attr``…"""
    put = plugin if isinstance(plugin, PluginUnderTest) else resolve_plugin_under_test(plugin)
    report = ConformanceReport(put.name, put.origin)
    names = list(checks) if checks is not None else list(CHECKS)
    with tempfile.TemporaryDirectory(prefix="hcekit-check-") as scratch:
        base = tmp or Path(scratch)
        for name in names:
            report.results.append(_run(Harness(put), name, base))
    return report

"""What every conformance check needs: fresh cards for one plugin, captured logs and traces.

The plugin under test is loaded alone on each card (plus a small *probe*
plugin claiming an AID nobody else does, so checks can deselect the plugin),
with a fresh instance per card when the plugin is a class: a card restart
really starts from the store, not from an object that remembers.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, cast

from ..aid import Claim
from ..apdu import CommandApdu
from ..card import Card
from ..context import AppContext, PluginContext
from ..errors import PluginLoadError
from ..hosts.loopback import LoopbackHost
from ..markers import hookimpl
from ..plugins import ENTRY_POINT_GROUP, PluginSpec, load_object, plugin_name
from ..store import Store
from ..terminal import LoopbackTransport, ScriptContext, Terminal, TerminalScript
from ..tracefile import TraceRecorder

__all__ = ["PluginUnderTest", "Harness", "LogCapture", "PROBE_AIDS", "resolve_plugin_under_test"]

#: AIDs the probe plugin may claim (the first that does not overlap the plugin under test).
PROBE_AIDS = (
    bytes.fromhex("F0484345434F4E46"),  # "HCECONF" under the proprietary F0 RID
    bytes.fromhex("D0484345434F4E46"),
    bytes.fromhex("A0000009990001"),
)


class ProbeApp:
    """A neutral application the checks select to move the selection off the plugin."""

    name = "conformance-probe"

    def __init__(self, aid: bytes) -> None:
        self.aid = aid

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(self.aid, description="hcekit conformance probe")]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> None:
        return None


@dataclass(frozen=True)
class PluginUnderTest:
    """A plugin to check: its name and how to make a fresh instance of it."""

    name: str
    factory: Callable[[], object]
    #: Where it came from, for messages ("entry point ndef", "mypkg:Card").
    origin: str

    def new(self) -> object:
        return self.factory()

    def options(self) -> dict[str, Any]:
        """The plugin's optional ``conformance`` attribute (see the package docs)."""
        obj = self.new()
        raw = getattr(obj, "conformance", None)
        return dict(raw) if isinstance(raw, dict) else {}


def resolve_plugin_under_test(spec: PluginSpec) -> PluginUnderTest:
    """An installed entry-point name, ``"module:attr"``, a class, a module or an object."""
    if isinstance(spec, tuple):
        name, obj = spec
        return _from_object(obj, name, f"{name} (given)")
    if isinstance(spec, str):
        if ":" not in spec and "." not in spec:
            matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
            if not matches:
                installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
                raise PluginLoadError(
                    f"no installed plugin named {spec!r} (entry-point group "
                    f"{ENTRY_POINT_GROUP!r} has: {', '.join(installed) or 'nothing'}); "
                    f"pass module:attr for a plugin that is not installed"
                )
            try:
                obj = matches[0].load()
            except Exception as exc:
                raise PluginLoadError(f"entry point {spec!r} ({matches[0].value}) failed to "
                                      f"load: {exc}") from exc
            return _from_object(obj, spec, f"entry point {spec} = {matches[0].value}")
        obj = load_object(spec)
        return _from_object(obj, plugin_name(obj), spec)
    return _from_object(spec, plugin_name(spec), repr(spec))


def _from_object(obj: object, name: str, origin: str) -> PluginUnderTest:
    if isinstance(obj, type):
        cls = cast("Callable[[], object]", obj)
        return PluginUnderTest(name, cls, origin)
    return PluginUnderTest(name, lambda: obj, origin)


class LogCapture(logging.Handler):
    """Collects every hcekit log record (DEBUG and up) while installed.

    Identity equality matters: ``Logger.addHandler`` skips a handler equal to
    one already attached, so nested captures must never compare equal.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def plugin_failures(self, name: str) -> list[str]:
        """The card's reports of *name* raising something other than IsoError."""
        found = []
        for r in self.records:
            if r.name != "hcekit.card" or r.levelno < logging.ERROR:
                continue
            args = r.args if isinstance(r.args, tuple) else ()
            if args and args[0] != name and "plugin" in str(r.msg):
                continue
            what = r.getMessage()
            if r.exc_info and r.exc_info[1] is not None:
                exc = r.exc_info[1]
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = (f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
                         if tb is not None else "")
                what += f": {type(exc).__name__}: {exc}{where}"
            found.append(what)
        return found

    def text(self) -> str:
        out = []
        for r in self.records:
            out.append(r.getMessage())
            if r.exc_info and r.exc_info[1] is not None:
                out.append(repr(r.exc_info[1]))
        return "\n".join(out)


@contextmanager
def capture_logs() -> Iterator[LogCapture]:
    logger = logging.getLogger("hcekit")
    capture = LogCapture()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the check reports what matters; keep DEBUG noise local
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


class Harness:
    """Builds cards and terminals for one plugin under test."""

    def __init__(self, plugin: PluginUnderTest) -> None:
        self.plugin = plugin
        self.trace = io.StringIO()
        self._probe_aid: bytes | None = None

    def claims(self) -> list[Claim]:
        with self.card() as card:
            return [c for n, c in card.claims() if n == self.plugin.name]

    def probe_aid(self) -> bytes | None:
        """An AID the probe can claim without overlapping the plugin (None: none free)."""
        if self._probe_aid is None:
            claims = self.claims()
            for aid in PROBE_AIDS:
                probe = Claim(aid)
                if not any(probe.overlaps(c) for c in claims):
                    self._probe_aid = aid
                    break
        return self._probe_aid

    def card(self, store: Store | None = None, *, probe: bool = False,
             record: bool = False) -> Card:
        """A card with a fresh instance of the plugin (and the probe / a trace recorder)."""
        specs: list[PluginSpec] = [(self.plugin.name, self.plugin.new())]
        if probe:
            aid = self.probe_aid()
            if aid is not None:
                specs.append((ProbeApp.name, ProbeApp(aid)))
        if record:
            specs.append(("conformance-trace", TraceRecorder(self.trace)))
        return Card(specs, store=store)

    @staticmethod
    def terminal(card: Card) -> Terminal:
        return Terminal(LoopbackTransport(LoopbackHost(card)))

    def demo_scripts(self) -> list[TerminalScript]:
        """The plugin's own ``demo=True`` terminal scripts."""
        fn = getattr(self.plugin.new(), "hcekit_terminal_scripts", None)
        if fn is None:
            return []
        scripts = cast("Sequence[TerminalScript]", fn() or [])
        return [s for s in scripts if s.demo]

    def run_demo_scripts(self, card: Card) -> list[str]:
        """Run every demo script in its own tap; return one message per failure."""
        failures = []
        for script in self.demo_scripts():
            terminal = self.terminal(card)
            out = io.StringIO()
            try:
                with terminal.tap():
                    status = script.run(ScriptContext(terminal, out=out))
            except Exception as exc:
                failures.append(f"demo script {script.name!r} raised {type(exc).__name__}: {exc}")
                continue
            if status != 0:
                failures.append(f"demo script {script.name!r} exited {status}: "
                                f"{out.getvalue().strip()[-300:]}")
        return failures

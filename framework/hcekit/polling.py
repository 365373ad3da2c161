"""Observe mode and the polling loop: frames a reader sends before it activates a card.

Android 15 (API 35) added *observe mode*: the NFC controller keeps listening
to a reader's polling loop without answering it, hands the frames to the app
(``HostApduService.processPollingFrames``) and answers only once a registered
*polling-loop filter* with ``autoTransact`` matches a frame, or once the app
turns observe mode off. This module is that model, sans-I/O, for every host:

* :class:`PollingFrame` — one frame, the fields of Android's
  ``android.nfc.cardemulation.PollingFrame`` (type, data, gain, timestamp,
  whether it triggered autoTransact);
* :class:`PollingFilter` — an exact frame or a pattern, validated as
  ``CardEmulation.registerPollingLoop[Pattern]FilterForService`` validates
  them; :class:`PollingLoop` — what one plugin declares
  (``hcekit_polling_loop``);
* :class:`PollingRouter` — the card's one view of every plugin's filters
  (conflicts refused, as overlapping AID claims are) and the tap's state: it
  routes a frame to the plugin whose filter matches it, applies autoTransact,
  asks the plugin's ``hcekit_polling_frame`` and keeps the tap's
  :class:`Decision`.

Routing follows AOSP's ``HostEmulationManager.onPollingLoopDetected``
(packages/apps/Nfc, Android 15/16): only frames of type ``UNKNOWN`` (custom
frames, such as Apple's ECP annotations) are matched against filters, as the
upper-case hex of their data — exact filters by equality, patterns with
``Pattern.matcher(hex).matches()`` (a whole-string match); a match with
autoTransact sets ``triggeredAutoTransact`` and lets one transaction through
(``allowOneTransaction``). Every other frame (A, B, F, ON, OFF and custom
frames no filter matches) goes to the preferred service — for hcekit, every
plugin of the card implementing ``hcekit_polling_frame``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from .errors import ClaimConflictError, ClaimError, HcekitError
from .logs import get_logger

if TYPE_CHECKING:
    from .context import PluginContext

__all__ = [
    "CardSilentError",
    "Decision",
    "ECP_HEADER",
    "FilterKind",
    "FrameType",
    "PollingEvent",
    "PollingFilter",
    "PollingFilterError",
    "PollingFrame",
    "PollingLoop",
    "PollingRouter",
    "PollingUnsupportedError",
    "check_filter_conflicts",
]

log = get_logger("hcekit.polling")


class PollingFilterError(ClaimError):
    """A polling-loop filter Android would reject (or silently never match)."""


class PollingUnsupportedError(HcekitError):
    """This host cannot see a reader's polling loop (vpcd, PC/SC); the message says why."""


class CardSilentError(HcekitError):
    """The card stayed silent: observe mode is on and nothing in the polling loop released it."""


#: The first byte of Apple's Enhanced Contactless Polling frames, the best-known custom
#: polling frames (public description: github.com/kormax/apple-enhanced-contactless-polling;
#: Apple publishes no specification).
ECP_HEADER = 0x6A


class FrameType(IntEnum):
    """``PollingFrame.getType()``; the values are Android's (the ASCII letters A B F O X U)."""

    A = 0x41  #: an NFC-A poll (REQA/WUPA)
    B = 0x42  #: an NFC-B poll (REQB/WUPB)
    F = 0x46  #: an NFC-F poll (SENSF_REQ)
    ON = 0x4F  #: the reader's field came on
    OFF = 0x58  #: the reader's field went off
    UNKNOWN = 0x55  #: any other frame: custom annotations such as Apple's ECP


@dataclass(frozen=True)
class PollingFrame:
    """One frame of a reader's polling loop, as ``android.nfc.cardemulation.PollingFrame``.

    ``data`` is what the platform reports (``getData()``; empty for ON and
    OFF); ``gain`` the controller's vendor-specific field strength
    (``getVendorSpecificGain()``, -1 when unknown); ``timestamp`` the
    controller's time of the frame (``getTimestamp()``, the platform's units);
    ``triggered_auto_transact`` tells whether this frame matched a filter with
    autoTransact, so the controller has already left observe mode for one
    transaction (``getTriggeredAutoTransact()``). The card sets it; a reader
    sending frames leaves it False.
    """

    type: FrameType
    data: bytes = b""
    gain: int = -1
    timestamp: int = 0
    triggered_auto_transact: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", FrameType(self.type))
        if not isinstance(self.data, bytes | bytearray):
            raise TypeError(f"polling frame data must be bytes, got {type(self.data).__name__}")
        object.__setattr__(self, "data", bytes(self.data))
        if self.type in (FrameType.ON, FrameType.OFF) and self.data:
            raise ValueError(f"a {self.type.name} frame carries no data")

    @property
    def hex(self) -> str:
        """The data as Android matches it against filters: upper-case hex, no separators."""
        return self.data.hex().upper()

    @classmethod
    def custom(cls, data: bytes, *, gain: int = -1, timestamp: int = 0) -> PollingFrame:
        """A custom (``UNKNOWN``) frame: the kind filters match."""
        return cls(FrameType.UNKNOWN, data, gain, timestamp)


class FilterKind(StrEnum):
    """A polling-loop filter matches one frame exactly, or a pattern of frames."""

    EXACT = "exact"  #: ``registerPollingLoopFilterForService`` / ``<polling-loop-filter>``
    PATTERN = "pattern"  #: ``registerPollingLoopPatternFilterForService`` / ``<polling-loop-pattern-filter>``


#: What ``CardEmulation.validatePollingLoopPatternFilter`` lets through (API 35):
#: hex digits, '?', '*', '.' (and ',', which the hex of a frame never contains).
#: Patterns compiled on first use (``re`` caches them): a card starts without compiling any.
_PATTERN_ALPHABET = r"[0-9A-Fa-f,?*.]*"
_HEX = r"(?:[0-9A-Fa-f]{2})+"


@dataclass(frozen=True)
class _Item:
    """One atom of a pattern: a set of hex characters (None: any) repeated min..max times."""

    chars: frozenset[str] | None
    optional: bool
    repeats: bool


_HEX_DIGITS = "0123456789ABCDEF"


def _pattern_items(pattern: str) -> tuple[_Item, ...]:
    """Parse an upper-cased pattern of the allowed alphabet; raise as Java's Pattern.compile would."""
    items: list[_Item] = []
    i = 0
    while i < len(pattern):
        atom = pattern[i]
        if atom in "?*":
            raise PollingFilterError(
                f"pattern {pattern!r}: {atom!r} at position {i} repeats nothing (Java's "
                "Pattern.compile refuses a dangling quantifier; Android throws)")
        chars = None if atom == "." else frozenset(atom)
        i += 1
        optional = repeats = False
        if i < len(pattern) and pattern[i] in "?*":
            optional, repeats = True, pattern[i] == "*"
            i += 1
            if i < len(pattern) and pattern[i] == "?":  # a reluctant quantifier: same language
                i += 1
            if i < len(pattern) and pattern[i] in "?*":
                raise PollingFilterError(
                    f"pattern {pattern!r}: a second quantifier at position {i} (Java's "
                    "Pattern.compile refuses it; Android throws)")
        items.append(_Item(chars, optional, repeats))
    return tuple(items)


@dataclass(frozen=True)
class PollingFilter:
    """One polling-loop filter: an exact frame or a pattern over its upper-case hex.

    Build them with :meth:`exact` and :meth:`pattern`. ``auto_transact``: when a
    frame matches, the controller leaves observe mode for one transaction by
    itself (the fast path: no round trip through the app). ``description``
    says, for people, which readers it matches.
    """

    kind: FilterKind
    value: str
    auto_transact: bool = False
    description: str = ""
    _items: tuple[_Item, ...] = field(default=(), repr=False, compare=False)
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def exact(cls, data: bytes | str, *, auto_transact: bool = False,
              description: str = "") -> PollingFilter:
        """A filter matching exactly the frame *data* (bytes, or hex as Android takes it)."""
        if isinstance(data, bytes | bytearray):
            text = bytes(data).hex()
        elif isinstance(data, str):
            text = data
        else:
            raise PollingFilterError(f"a polling-loop filter is bytes or hex text, "
                                     f"got {type(data).__name__}")
        if not re.fullmatch(_HEX, text):
            raise PollingFilterError(
                f"polling-loop filter {text!r}: Android takes an even number of hex digits, "
                "at least one byte (HexFormat.parseHex), no spaces or separators")
        return cls(FilterKind.EXACT, text.upper(), bool(auto_transact), description)

    @classmethod
    def pattern(cls, pattern: str, *, auto_transact: bool = False,
                description: str = "") -> PollingFilter:
        """A filter matching every frame whose upper-case hex the pattern matches whole.

        Android's syntax (``registerPollingLoopPatternFilterForService``): hex
        digits, ``.`` (any hex digit), ``?`` and ``*`` (the previous one zero or
        one / any number of times), upper-cased, then compiled as a Java regular
        expression — so ``6A02..01.*`` is "6A 02, any byte, 01, anything after".
        """
        if not isinstance(pattern, str):
            raise PollingFilterError(f"a polling-loop pattern is text, got {type(pattern).__name__}")
        if not re.fullmatch(_PATTERN_ALPHABET, pattern):
            raise PollingFilterError(
                f"pattern {pattern!r}: polling-loop pattern filters may only contain hex "
                "digits, '.', '?' and '*' (CardEmulation.registerPollingLoopPatternFilterForService)")
        if "," in pattern:
            raise PollingFilterError(
                f"pattern {pattern!r}: Android's check lets ',' through, but a frame's hex never "
                "contains one, so this filter would never match; remove it")
        if not pattern:
            raise PollingFilterError("an empty pattern matches no frame a reader sends")
        upper = pattern.upper()
        items = _pattern_items(upper)
        return cls(FilterKind.PATTERN, upper, bool(auto_transact), description,
                   items, re.compile(upper))

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FilterKind(self.kind))
        if self.kind is FilterKind.EXACT:
            object.__setattr__(self, "value", str(self.value).upper())
        if self.kind is FilterKind.PATTERN and self._regex is None:
            # built directly (a dataclass replace or a parsed XML): validate the same way
            built = PollingFilter.pattern(self.value, auto_transact=self.auto_transact)
            object.__setattr__(self, "value", built.value)
            object.__setattr__(self, "_items", built._items)
            object.__setattr__(self, "_regex", built._regex)
        elif self.kind is FilterKind.EXACT and not re.fullmatch(_HEX, self.value):
            raise PollingFilterError(f"polling-loop filter {self.value!r} is not hex bytes")

    @property
    def android_method(self) -> str:
        """The ``CardEmulation`` method that registers this filter at run time."""
        if self.kind is FilterKind.EXACT:
            return "registerPollingLoopFilterForService"
        return "registerPollingLoopPatternFilterForService"

    def matches(self, data: bytes) -> bool:
        """Does a custom frame with *data* match (Android's comparison of upper-case hex)?"""
        text = data.hex().upper()
        if self.kind is FilterKind.EXACT:
            return text == self.value
        assert self._regex is not None
        return self._regex.fullmatch(text) is not None

    def overlaps(self, other: PollingFilter) -> bool:
        """Could one frame match both filters? Exact for this pattern language."""
        if self.kind is FilterKind.EXACT:
            return other.matches(bytes.fromhex(self.value))
        if other.kind is FilterKind.EXACT:
            return self.matches(bytes.fromhex(other.value))
        return _intersect(self._items, other._items)

    def describe(self) -> str:
        auto = ", autoTransact" if self.auto_transact else ""
        return f"{self.kind.value} {self.value}{auto}"


def _closure(items: Sequence[_Item], positions: Iterable[int]) -> set[int]:
    """Positions reachable by skipping optional items."""
    reach = set(positions)
    stack = list(reach)
    while stack:
        i = stack.pop()
        if i < len(items) and items[i].optional and i + 1 not in reach:
            reach.add(i + 1)
            stack.append(i + 1)
    return reach


def _step(items: Sequence[_Item], i: int, char: str) -> set[int]:
    if i >= len(items):
        return set()
    item = items[i]
    if item.chars is not None and char not in item.chars:
        return set()
    return _closure(items, {i} if item.repeats else {i + 1})


def _intersect(a: Sequence[_Item], b: Sequence[_Item]) -> bool:
    """Is there a non-empty, even-length hex string both patterns match whole?"""
    start = {(i, j, 0, False) for i in _closure(a, {0}) for j in _closure(b, {0})}
    seen = set(start)
    stack = list(start)
    while stack:
        i, j, parity, consumed = stack.pop()
        if i == len(a) and j == len(b) and parity == 0 and consumed:
            return True
        for char in _HEX_DIGITS:
            for ni in _step(a, i, char):
                for nj in _step(b, j, char):
                    state = (ni, nj, parity ^ 1, True)
                    if state not in seen:
                        seen.add(state)
                        stack.append(state)
    return False


@dataclass(frozen=True)
class PollingLoop:
    """What a plugin declares about the polling loop (``hcekit_polling_loop``).

    ``filters``: the custom frames that route to this plugin. ``observe_by_default``:
    the plugin asks the card to start every tap in observe mode (Android's
    ``shouldDefaultToObserveMode``): the card answers no reader until a filter
    with autoTransact matches or a plugin decides :attr:`Decision.TRANSACT`.
    hcekit serves all plugins from one Android service, so this is the whole
    card's setting: one plugin asking for it silences the card for every plugin's
    readers that do not announce themselves.
    """

    filters: tuple[PollingFilter, ...] = ()
    observe_by_default: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", tuple(self.filters))
        for item in self.filters:
            if not isinstance(item, PollingFilter):
                raise PollingFilterError(f"{item!r} is not an hcekit.polling.PollingFilter")


class Decision(StrEnum):
    """What a plugin wants the card to do for the rest of this tap."""

    #: No opinion: keep watching (the card answers only if observe mode is off).
    OBSERVE = "observe"
    #: Leave observe mode for this tap: the card answers the reader (``setObserveModeEnabled(false)``).
    TRANSACT = "transact"
    #: Stay silent for this tap, even after a filter's autoTransact (observe mode back on).
    SILENT = "silent"


@dataclass(frozen=True)
class PollingEvent:
    """One frame the card saw, who got it and the tap's decision after it (broadcast to observers)."""

    frame: PollingFrame
    plugin: str | None
    decision: Decision


def check_filter_conflicts(owned: Iterable[tuple[str, PollingFilter]]) -> None:
    """Refuse a filter twice in one plugin and overlapping filters of two plugins."""
    items = list(owned)
    problems = []
    for index, (owner_a, filter_a) in enumerate(items):
        for owner_b, filter_b in items[index + 1:]:
            if owner_a == owner_b and filter_a.kind is filter_b.kind \
                    and filter_a.value == filter_b.value:
                problems.append(f"plugin {owner_a!r} declares {filter_a.describe()} twice")
            elif owner_a != owner_b and filter_a.overlaps(filter_b):
                problems.append(f"plugin {owner_a!r} declares {filter_a.describe()} and plugin "
                                f"{owner_b!r} declares {filter_b.describe()}: one frame "
                                "could match both")
    if problems:
        raise ClaimConflictError("conflicting polling-loop filters: " + "; ".join(problems))


FrameHook = Callable[[Any, PollingFrame], Any]


@dataclass
class _Entry:
    name: str
    ctx: PluginContext
    loop: PollingLoop
    hook: FrameHook | None


class PollingRouter:
    """The card's view of every plugin's polling loop, and the current tap's state.

    Sans-I/O like the card: a host feeds frames (:meth:`frame`) and asks
    whether the card answers the reader now (:meth:`answers_reader`). Hosts
    that show observe mode set :attr:`observe_mode` (Android: the device
    supports it and the app enabled it; loopback: the card's preference or the
    test's choice); with observe mode off the card answers every reader, as a
    phone before Android 15 does, and a plugin's :attr:`Decision.SILENT`
    cannot be honoured (logged once per tap).
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._exact: dict[str, tuple[_Entry, PollingFilter]] = {}
        self._patterns: list[tuple[_Entry, PollingFilter]] = []
        self._listeners: list[_Entry] = []
        #: Observe mode as the host runs it; None until a host says.
        self.observe_mode: bool | None = None
        self.decision = Decision.OBSERVE
        self._warned_silent = False

    # -- the plugins' declarations ------------------------------------------------------

    def declare(self, name: str, ctx: PluginContext, loop: PollingLoop | None,
                hook: FrameHook | None) -> None:
        """Remember a plugin's :class:`PollingLoop` (None: nothing declared) and frame hook."""
        if name not in self._entries:
            self._entries[name] = _Entry(name, ctx, loop or PollingLoop(), hook)

    def rebuild(self, names: Sequence[str]) -> None:
        """Keep the plugins in *names* (registration order); refuse conflicting filters."""
        entries = [self._entries[n] for n in names if n in self._entries]
        check_filter_conflicts((e.name, f) for e in entries for f in e.loop.filters)
        self._entries = {e.name: e for e in entries}
        self._exact = {f.value: (e, f) for e in entries for f in e.loop.filters
                       if f.kind is FilterKind.EXACT}
        self._patterns = [(e, f) for e in entries for f in e.loop.filters
                          if f.kind is FilterKind.PATTERN]
        self._listeners = [e for e in entries if e.hook is not None]

    def filters(self) -> list[tuple[str, PollingFilter]]:
        """``(plugin, filter)`` for every declared filter, in registration order."""
        return [(e.name, f) for e in self._entries.values() for f in e.loop.filters]

    @property
    def observe_by_default(self) -> bool:
        """Does some plugin ask for observe mode by default (``shouldDefaultToObserveMode``)?"""
        return any(e.loop.observe_by_default for e in self._entries.values())

    def observe_requested_by(self) -> list[str]:
        return [e.name for e in self._entries.values() if e.loop.observe_by_default]

    # -- the tap ----------------------------------------------------------------------------

    def match(self, frame: PollingFrame) -> tuple[str, PollingFilter] | None:
        """The plugin and filter a custom frame routes to, or None (AOSP: exact, then patterns)."""
        if frame.type is not FrameType.UNKNOWN:
            return None
        text = frame.hex
        found = self._exact.get(text)
        if found is None:
            found = next(((e, f) for e, f in self._patterns if f.matches(frame.data)), None)
        return None if found is None else (found[0].name, found[1])

    def frame(self, frame: PollingFrame) -> PollingEvent:
        """Route one frame; return what happened. Plugin failures are logged, never raised."""
        matched = self.match(frame)
        if matched is not None:
            name, flt = matched
            if flt.auto_transact:
                frame = replace(frame, triggered_auto_transact=True)
                if self.decision is not Decision.SILENT:
                    self.decision = Decision.TRANSACT
            self._ask(self._entries[name], frame)
            return PollingEvent(frame, name, self.decision)
        frame = replace(frame, triggered_auto_transact=False)
        for entry in self._listeners:
            self._ask(entry, frame)
        return PollingEvent(frame, None, self.decision)

    def _ask(self, entry: _Entry, frame: PollingFrame) -> None:
        if entry.hook is None:
            return
        try:
            answer = entry.hook(entry.ctx, frame)
        except KeyboardInterrupt:
            raise
        except BaseException:
            log.exception("plugin %r failed in hcekit_polling_frame; frame ignored", entry.name)
            return
        if answer is None or answer is Decision.OBSERVE:
            return
        if not isinstance(answer, Decision):
            log.error("plugin %r returned %r from hcekit_polling_frame; expected a "
                      "hcekit.polling.Decision or None", entry.name, answer)
            return
        if answer is Decision.SILENT or self.decision is not Decision.SILENT:
            self.decision = answer
        if answer is Decision.SILENT and self.observe_mode is False and not self._warned_silent:
            self._warned_silent = True
            log.warning("plugin %r asked the card to stay silent, but observe mode is off on "
                        "this host: the card answers the reader anyway", entry.name)

    def answers_reader(self) -> bool:
        """Would the card answer the reader's next poll (activation) now?"""
        if not self.observe_mode:
            return True
        return self.decision is Decision.TRANSACT

    def end_tap(self) -> None:
        """The reader went away: the next tap starts observing again."""
        self.decision = Decision.OBSERVE
        self._warned_silent = False

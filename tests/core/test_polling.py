"""Observe mode and polling-loop filters in the card core (hcekit.polling), in-process."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence

import pytest
from hcekit import Card, Claim, hookimpl
from hcekit.errors import ClaimConflictError, PluginLoadError
from hcekit.hosts.loopback import LoopbackHost
from hcekit.hosts.vpcd import VpcdHost
from hcekit.polling import (
    CardSilentError,
    Decision,
    FilterKind,
    FrameType,
    PollingFilter,
    PollingFilterError,
    PollingFrame,
    PollingLoop,
    PollingUnsupportedError,
)
from hcekit.terminal import LoopbackTransport, Terminal
from hypothesis import given, settings
from hypothesis import strategies as st

AID = bytes.fromhex("F0C0FFEE000001")
ECP_TRANSIT = bytes.fromhex("6A02C30100FFFFFF")
WUPA = PollingFrame(FrameType.A, b"\x52")


class Plugin:
    """A test plugin: declares *loop*, records frames, answers *decide* (or None)."""

    def __init__(self, name: str, loop: PollingLoop | None,
                 decide: Decision | None = None, aid: bytes = AID) -> None:
        self.name = name
        self.loop = loop
        self.decide = decide
        self.aid = aid
        self.frames: list[PollingFrame] = []

    @hookimpl
    def hcekit_claims(self, plugin: object) -> Sequence[Claim]:
        return [Claim(self.aid)]

    @hookimpl
    def hcekit_polling_loop(self, plugin: object) -> PollingLoop | None:
        return self.loop

    @hookimpl
    def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> Decision | None:
        self.frames.append(frame)
        return self.decide


def gate_filter(auto: bool = True) -> PollingFilter:
    return PollingFilter.pattern("6A02..01.*", auto_transact=auto)


# -- filters -------------------------------------------------------------------------------


def test_exact_filters_take_android_hex_and_match_the_whole_frame() -> None:
    flt = PollingFilter.exact("6a02c30100")
    assert flt.kind is FilterKind.EXACT and flt.value == "6A02C30100"
    assert flt == PollingFilter.exact(bytes.fromhex("6A02C30100"))
    assert flt.matches(bytes.fromhex("6A02C30100"))
    assert not flt.matches(bytes.fromhex("6A02C3010000"))
    assert flt.android_method == "registerPollingLoopFilterForService"
    # built directly (as from parsed XML), normalised and checked the same way
    assert PollingFilter(FilterKind.EXACT, "6a02c30100") == flt
    assert PollingFilter("pattern", "6a.*") == PollingFilter.pattern("6A.*")  # type: ignore[arg-type]
    assert PollingFilter("pattern", "6a.*").matches(b"\x6a\x01")  # type: ignore[arg-type]
    with pytest.raises(PollingFilterError):
        PollingFilter(FilterKind.PATTERN, "*")


@pytest.mark.parametrize("text", ["", "6", "6A0", "6A 02", "6G", "0x6A"])
def test_exact_filters_refuse_what_hexformat_refuses(text: str) -> None:
    with pytest.raises(PollingFilterError, match="even number of hex digits"):
        PollingFilter.exact(text)


def test_patterns_are_upper_cased_and_match_the_whole_hex() -> None:
    flt = gate_filter()
    assert flt.value == "6A02..01.*" and flt.auto_transact
    assert flt.android_method == "registerPollingLoopPatternFilterForService"
    assert flt.matches(ECP_TRANSIT)
    assert flt.matches(bytes.fromhex("6A02C301"))
    assert not flt.matches(bytes.fromhex("6A02C302"))  # access reader, not transit
    assert not flt.matches(bytes.fromhex("006A02C301"))  # a whole-string match, not a search
    assert PollingFilter.pattern("6a0?").matches(b"\x6a")  # "6A" then an optional "0"


@pytest.mark.parametrize(("pattern", "why"), [
    ("*6A", "repeats nothing"), ("????", "repeats nothing"), ("6A**", "second quantifier"),
    ("6A?*", "second quantifier"), ("6A,02", "never match"), ("6A[0]", "may only contain"),
    ("6A+", "may only contain"), ("", "empty pattern"),
])
def test_patterns_refuse_what_android_refuses_or_never_matches(pattern: str, why: str) -> None:
    with pytest.raises(PollingFilterError, match=re.escape(why)):
        PollingFilter.pattern(pattern)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEF.?*", max_size=6))
def test_pattern_syntax_agrees_with_a_regex_compiler(pattern: str) -> None:
    """Java's and Python's regex agree on this alphabet: both refuse dangling/double quantifiers."""
    try:
        re.compile(pattern)
        compiles = bool(pattern)
    except re.error:
        compiles = False
    try:
        PollingFilter.pattern(pattern)
        accepted = True
    except PollingFilterError:
        accepted = False
    assert accepted == compiles


def _frames(max_len: int) -> list[bytes]:
    alphabet = [hi << 4 | lo for hi in (0, 6, 0xA, 0xF) for lo in (0, 6, 0xA, 0xF)]
    return [bytes(p) for n in range(1, max_len + 1) for p in itertools.product(alphabet, repeat=n)]


_SMALL_FRAMES = _frames(3)
_PATTERN_TEXT = st.text(alphabet="06A.?*", min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(_PATTERN_TEXT, _PATTERN_TEXT)
def test_pattern_overlap_agrees_with_a_brute_force_search(a: str, b: str) -> None:
    try:
        fa, fb = PollingFilter.pattern(a), PollingFilter.pattern(b)
    except PollingFilterError:
        return
    witness = any(fa.matches(f) and fb.matches(f) for f in _SMALL_FRAMES)
    assert fa.overlaps(fb) == witness == fb.overlaps(fa)


def test_overlap_of_disjoint_and_shared_patterns() -> None:
    assert not gate_filter().overlaps(PollingFilter.pattern("6A02..02.*"))
    assert gate_filter().overlaps(PollingFilter.pattern("6A0.C3.*"))
    assert gate_filter().overlaps(PollingFilter.exact(ECP_TRANSIT))
    assert not gate_filter().overlaps(PollingFilter.exact("6A02C302"))


# -- the card's view: conflicts at registration --------------------------------------------


def test_overlapping_filters_of_two_plugins_stop_the_card_naming_both() -> None:
    a = Plugin("gate", PollingLoop((gate_filter(),)))
    b = Plugin("other", PollingLoop((PollingFilter.exact(ECP_TRANSIT),)),
               aid=bytes.fromhex("F0C0FFEE000002"))
    with pytest.raises(ClaimConflictError, match=r"'gate'.*6A02\.\.01.*'other'.*6A02C30100FFFFFF"):
        Card([a, b])


def test_a_conflicting_plugin_registered_later_is_refused_and_the_card_unchanged() -> None:
    card = Card([Plugin("gate", PollingLoop((gate_filter(),)))])
    late = Plugin("late", PollingLoop((PollingFilter.pattern("6A02.*"),)),
                  aid=bytes.fromhex("F0C0FFEE000002"))
    with pytest.raises(ClaimConflictError, match="conflicting polling-loop filters"):
        card.register(late)
    assert list(card.plugins) == ["gate"]
    assert card.polling.filters() == [("gate", gate_filter())]
    card.register(Plugin("fine", PollingLoop((PollingFilter.pattern("6A02..02.*"),)),
                         aid=bytes.fromhex("F0C0FFEE000003")))
    assert [name for name, _ in card.polling.filters()] == ["gate", "fine"]
    card.unregister("gate")
    assert [name for name, _ in card.polling.filters()] == ["fine"]


def test_the_same_filter_twice_in_one_plugin_is_refused() -> None:
    with pytest.raises(ClaimConflictError, match="twice"):
        Card([Plugin("p", PollingLoop((gate_filter(), gate_filter(auto=False))))])


def test_a_wrong_declaration_names_the_plugin() -> None:
    class Wrong(Plugin):
        @hookimpl
        def hcekit_polling_loop(self, plugin: object) -> PollingLoop | None:
            return [gate_filter()]  # type: ignore[return-value]

    with pytest.raises(PluginLoadError, match=r"'wrong'.*expected hcekit\.polling\.PollingLoop"):
        Card([Wrong("wrong", None)])


def test_tryfirst_on_the_frame_hook_is_refused_as_on_every_owner_only_hook() -> None:
    class Eager:
        name = "eager"

        @hookimpl(tryfirst=True)
        def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> None:
            return None

    with pytest.raises(PluginLoadError, match=r"tryfirst=True.*hcekit_polling_frame"):
        Card([Eager()])


# -- routing frames ---------------------------------------------------------------------------


def test_a_matching_custom_frame_goes_to_its_owner_only_and_auto_transacts() -> None:
    gate = Plugin("gate", PollingLoop((gate_filter(),)))
    other = Plugin("other", None, aid=bytes.fromhex("F0C0FFEE000002"))
    card = Card([gate, other])
    event = card.polling_frame(PollingFrame.custom(ECP_TRANSIT, gain=7, timestamp=1234))
    assert event.plugin == "gate" and event.decision is Decision.TRANSACT
    assert event.frame.triggered_auto_transact
    assert gate.frames == [event.frame] and other.frames == []
    assert (event.frame.gain, event.frame.timestamp) == (7, 1234)


def test_other_frames_go_to_every_plugin_implementing_the_hook() -> None:
    gate = Plugin("gate", PollingLoop((gate_filter(),)))
    other = Plugin("other", None, aid=bytes.fromhex("F0C0FFEE000002"))
    card = Card([gate, other])
    frames = [PollingFrame(FrameType.ON), WUPA, PollingFrame(FrameType.B, bytes.fromhex("050008")),
              PollingFrame.custom(bytes.fromhex("6A02C30200FFFFFF")), PollingFrame(FrameType.OFF)]
    events = [card.polling_frame(f) for f in frames]
    assert [e.plugin for e in events] == [None] * 5
    assert all(e.decision is Decision.OBSERVE for e in events)
    assert gate.frames == frames and other.frames == frames
    # a frame the reader marked "auto-transact" is not believed: the card decides that
    forged = card.polling_frame(PollingFrame(FrameType.A, b"\x26", triggered_auto_transact=True))
    assert not forged.frame.triggered_auto_transact


def test_an_exact_filter_does_not_see_a_frame_of_type_a() -> None:
    """AOSP matches filters against custom (UNKNOWN) frames only."""
    owner = Plugin("p", PollingLoop((PollingFilter.exact("52", auto_transact=True),)))
    card = Card([owner])
    assert card.polling_frame(WUPA).plugin is None
    assert card.polling_frame(PollingFrame.custom(b"\x52")).plugin == "p"


def test_silent_wins_over_transact_and_the_tap_end_resets_it() -> None:
    gate = Plugin("gate", PollingLoop((gate_filter(),)))
    guard = Plugin("guard", None, decide=Decision.SILENT, aid=bytes.fromhex("F0C0FFEE000002"))
    card = Card([gate, guard])
    card.polling.observe_mode = True
    assert card.polling_frame(WUPA).decision is Decision.SILENT
    event = card.polling_frame(PollingFrame.custom(ECP_TRANSIT))
    assert event.frame.triggered_auto_transact and event.decision is Decision.SILENT
    assert not card.polling.answers_reader()
    card.field_off()
    assert card.polling.decision is Decision.OBSERVE


def test_a_plugin_can_release_the_card_without_a_filter() -> None:
    card = Card([Plugin("p", PollingLoop(observe_by_default=True), decide=Decision.TRANSACT)])
    card.polling.observe_mode = True
    assert not card.polling.answers_reader()
    assert card.polling_frame(WUPA).decision is Decision.TRANSACT
    assert card.polling.answers_reader()


def test_silent_without_observe_mode_is_logged_as_not_honoured(
        caplog: pytest.LogCaptureFixture) -> None:
    card = Card([Plugin("p", None, decide=Decision.SILENT)])
    card.polling.observe_mode = False
    with caplog.at_level(logging.WARNING, "hcekit.polling"):
        card.polling_frame(WUPA)
        card.polling_frame(WUPA)
    assert card.polling.answers_reader()
    warnings = [r for r in caplog.records if "observe mode is off" in r.getMessage()]
    assert len(warnings) == 1 and "'p'" in warnings[0].getMessage()


def test_a_failing_or_misbehaving_hook_is_logged_and_the_card_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Plugin):
        @hookimpl
        def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> Decision | None:
            if frame.type is FrameType.A:
                raise RuntimeError("boom")
            return "transact"  # type: ignore[return-value]

    card = Card([Broken("broken", None)])
    with caplog.at_level(logging.ERROR, "hcekit.polling"):
        assert card.polling_frame(WUPA).decision is Decision.OBSERVE
        assert card.polling_frame(PollingFrame(FrameType.ON)).decision is Decision.OBSERVE
    messages = [r.getMessage() for r in caplog.records]
    assert any("failed in hcekit_polling_frame" in m for m in messages)
    assert any("expected a hcekit.polling.Decision" in m for m in messages)


def test_polling_frames_reject_data_on_field_frames() -> None:
    with pytest.raises(ValueError, match="ON frame carries no data"):
        PollingFrame(FrameType.ON, b"\x00")
    assert PollingFrame(0x55, b"\x6a").type is FrameType.UNKNOWN  # Android's int is accepted


def test_observers_see_every_frame() -> None:
    seen = []

    class Observer:
        name = "observer"

        @hookimpl
        def hcekit_polling(self, card: Card, event: object) -> None:
            seen.append(event)

    card = Card([Plugin("gate", PollingLoop((gate_filter(),))), Observer()])
    first = card.polling_frame(WUPA)
    second = card.polling_frame(PollingFrame.custom(ECP_TRANSIT))
    assert seen == [first, second]


# -- hosts and terminals ------------------------------------------------------------------------


def rig(plugins: list[object], observe_mode: bool | None = None) -> tuple[Card, Terminal]:
    card = Card(plugins)
    return card, Terminal(LoopbackTransport(LoopbackHost(card, observe_mode=observe_mode)))


def test_loopback_in_observe_mode_stays_silent_until_a_gate_announces_itself() -> None:
    _, terminal = rig([Plugin("gate", PollingLoop((gate_filter(),), observe_by_default=True))])
    with pytest.raises(CardSilentError, match="observe mode is on"):
        terminal.connect()
    assert not terminal.poll(WUPA, PollingFrame(FrameType.B, bytes.fromhex("050008")), loops=3)
    with pytest.raises(CardSilentError):
        terminal.connect()
    assert terminal.poll(WUPA, ECP_TRANSIT)
    with terminal.tap():
        assert terminal.select(AID).sw == 0x9000
    with pytest.raises(CardSilentError):  # the next tap observes again
        terminal.connect()


def test_loopback_observe_mode_follows_the_card_unless_the_test_says() -> None:
    _, quiet = rig([Plugin("p", PollingLoop((gate_filter(),)))])
    with quiet.tap():  # no plugin asked for observe mode: the card answers every reader
        assert quiet.select(AID).sw == 0x9000
    _, forced = rig([Plugin("p", PollingLoop((gate_filter(),)))], observe_mode=True)
    with pytest.raises(CardSilentError):
        forced.connect()
    _, off = rig([Plugin("p", PollingLoop(observe_by_default=True))], observe_mode=False)
    with off.tap():
        assert off.select(AID).sw == 0x9000


def test_a_terminal_without_a_polling_channel_says_so() -> None:
    class PcscLike:
        name = "ACS ACR122U"

        def connect(self) -> None: ...
        def disconnect(self) -> None: ...
        def transmit(self, command: bytes) -> bytes:
            return b"\x90\x00"

    with pytest.raises(PollingUnsupportedError, match=r"ACS ACR122U.*cannot send a polling loop"):
        Terminal(PcscLike()).poll(WUPA)


def test_vpcd_refuses_a_polling_loop_and_names_what_goes_inactive() -> None:
    card = Card([Plugin("gate", PollingLoop((gate_filter(),), observe_by_default=True))])
    host = VpcdHost(card, 35963)
    with pytest.raises(PollingUnsupportedError, match="vpcd's protocol carries only"):
        host.poll([WUPA])
    line = host.polling_downgrade()
    assert line is not None and "gate" in line and "the card answers every reader" in line
    assert VpcdHost(Card([Plugin("p", None)]), 35963).polling_downgrade() is None
    assert LoopbackHost(card).polling_downgrade() is None


def test_a_refused_reader_ends_its_tap_so_a_silent_decision_does_not_linger() -> None:
    card, terminal = rig([Plugin("guard", PollingLoop(observe_by_default=True),
                                 decide=Decision.SILENT)])
    assert not terminal.poll(WUPA)
    assert card.polling.decision is Decision.SILENT
    with pytest.raises(CardSilentError, match="decision silent"):
        terminal.connect()
    assert card.polling.decision is Decision.OBSERVE


def test_vpcd_says_at_start_in_one_line_that_observe_mode_is_inactive(
        caplog: pytest.LogCaptureFixture) -> None:
    card = Card([Plugin("gate", PollingLoop((gate_filter(),), observe_by_default=True))])
    host = VpcdHost(card, 1, reconnect=False)  # nothing listens on port 1: no vpcd needed
    with caplog.at_level(logging.WARNING, "hcekit"):
        host.start()
        host.stop()
    lines = [r.getMessage() for r in caplog.records if "polling-loop filters" in r.getMessage()]
    assert lines == [f"vpcd 127.0.0.1:1: {host.polling_downgrade()}"]


@pytest.mark.parametrize(("line", "message"), [
    ("poll", "needs a frame type"),
    ("poll Z 52", "unknown polling frame type 'Z'"),
    ("poll A 52 gain=x", "invalid literal"),
    ("poll A gain=1 52", "a poll line has the frame's hex bytes, then"),
    ("poll A 52 decision=maybe", "'maybe' is not a valid Decision"),
    ("poll A 52 colour=red", "unexpected 'colour=red'"),
    ("poll ON 00", "ON frame carries no data"),
])
def test_bad_poll_lines_are_refused_with_the_line(line: str, message: str) -> None:
    from hcekit.tracefile import TraceFormatError, parse_trace

    with pytest.raises(TraceFormatError, match=re.escape(message)) as info:
        parse_trace(["# hcekit trace 1", f"2026-01-31T12:00:00.000000Z {line}"])
    assert str(info.value).startswith("line 2: ")


class GateA:
    """For ``hcekit plugins``: an importable plugin declaring a gate filter."""

    name = "gate-a"

    @hookimpl
    def hcekit_polling_loop(self, plugin: object) -> PollingLoop:
        return PollingLoop((gate_filter(),), observe_by_default=True)


class GateB(GateA):
    name = "gate-b"


def test_hcekit_plugins_lists_filters_and_reports_their_conflicts(
        capsys: pytest.CaptureFixture[str]) -> None:
    from hcekit.cli import main

    assert main(["plugins", "--plugin", "tests.core.test_polling:GateA"]) == 0
    out = capsys.readouterr().out
    assert "  polling-loop pattern 6A02..01.*, autoTransact" in out
    assert "observe mode by default" in out
    assert main(["plugins", "--plugin", "tests.core.test_polling:GateA",
                 "--plugin", "tests.core.test_polling:GateB"]) == 1
    assert "CONFLICT: conflicting polling-loop filters: plugin 'gate-a'" in capsys.readouterr().out

"""Hypothesis strategies for APDUs, for plugin authors' property tests.

::

    from hypothesis import given
    from hcekit.fuzzing.strategies import command_apdus

    @given(command_apdus(cla=st.just(0x80)))
    def test_never_6f00(hce_terminal, command): ...

Every strategy is deterministic given hypothesis's seed and shrinks towards
small, readable APDUs.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from ..apdu import EXTENDED_MAX_NE, SHORT_MAX_NC, SHORT_MAX_NE, CommandApdu

__all__ = [
    "bytes_of",
    "command_apdus",
    "apdu_bytes",
    "malformed_apdu_bytes",
    "select_commands",
    "any_apdu_bytes",
]

byte = st.integers(min_value=0, max_value=0xFF)


def bytes_of(min_size: int = 0, max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Any bytes of *min_size* to *max_size* (APDU data fields, raw payloads)."""
    return st.binary(min_size=min_size, max_size=max_size)


@st.composite
def command_apdus(
    draw: st.DrawFn,
    *,
    cla: st.SearchStrategy[int] = byte,
    ins: st.SearchStrategy[int] = byte,
    p1: st.SearchStrategy[int] = byte,
    p2: st.SearchStrategy[int] = byte,
    data: st.SearchStrategy[bytes] | None = None,
    extended: bool | None = None,
) -> CommandApdu:
    """Well-formed command APDUs, cases 1–4; short by default, extended when drawn/asked."""
    use_extended = draw(st.booleans()) if extended is None else extended
    max_nc = 300 if use_extended else SHORT_MAX_NC
    body = draw(data if data is not None else bytes_of(0, max_nc))
    if not use_extended and len(body) > SHORT_MAX_NC:
        body = body[:SHORT_MAX_NC]
    max_ne = EXTENDED_MAX_NE if use_extended else SHORT_MAX_NE
    le = draw(st.none() | st.integers(min_value=1, max_value=max_ne))
    return CommandApdu(draw(cla), draw(ins), draw(p1), draw(p2), body, le,
                       True if use_extended else None)


def apdu_bytes(**kwargs: object) -> st.SearchStrategy[bytes]:
    """The wire encoding of :func:`command_apdus` (same keyword arguments)."""
    return command_apdus(**kwargs).map(CommandApdu.to_bytes)  # type: ignore[arg-type]


@st.composite
def malformed_apdu_bytes(draw: st.DrawFn) -> bytes:
    """Byte strings :meth:`CommandApdu.parse` must reject: short, wrong Lc, trailing bytes."""
    header = draw(st.binary(min_size=4, max_size=4))
    kind = draw(st.sampled_from(["truncated-header", "lc-too-big", "trailing", "ext-lc-zero",
                                 "ext-short", "six-bytes"]))
    if kind == "truncated-header":
        return header[: draw(st.integers(0, 3))]
    if kind == "six-bytes":
        return header + b"\x00" + draw(st.binary(min_size=1, max_size=1))
    if kind == "ext-lc-zero":
        return header + b"\x00\x00\x00" + draw(st.binary(min_size=1, max_size=8))
    if kind == "ext-short":  # at least one data byte, else it reads as case 2E
        lc = draw(st.integers(min_value=2, max_value=600))
        have = draw(st.integers(min_value=1, max_value=lc - 1))
        return header + b"\x00" + lc.to_bytes(2, "big") + bytes(have)
    if kind == "lc-too-big":  # at least one data byte, else it reads as case 2S
        lc = draw(st.integers(min_value=2, max_value=SHORT_MAX_NC))
        have = draw(st.integers(min_value=1, max_value=lc - 1))
        return header + bytes((lc,)) + bytes(have)
    lc = draw(st.integers(min_value=1, max_value=SHORT_MAX_NC))
    extra = draw(st.integers(min_value=2, max_value=8))
    return header + bytes((lc,)) + bytes(lc) + bytes(extra)


def select_commands(aids: Sequence[bytes]) -> st.SearchStrategy[CommandApdu]:
    """SELECT by DF name of one of *aids* (first or next occurrence, with or without FCI)."""
    return st.builds(
        lambda aid, p2, le: CommandApdu(0x00, 0xA4, 0x04, p2, aid, le),
        st.sampled_from(list(aids)),
        st.sampled_from([0x00, 0x02, 0x0C]),
        st.sampled_from([None, 256]),
    )


def any_apdu_bytes() -> st.SearchStrategy[bytes]:
    """Anything a reader might send: well-formed, malformed, or plain random bytes."""
    return apdu_bytes() | malformed_apdu_bytes() | bytes_of(0, 300)

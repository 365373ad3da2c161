"""The routing table is data the router runs; its docstring and the docs are rendered from it."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hcekit import Card, Claim, CommandApdu, routing
from hcekit.apdu import INS_GET_RESPONSE, INS_SELECT, P1_SELECT_BY_DF_NAME
from hcekit.router import Router
from hcekit.routing import RAW_ROWS, ROWS, Effect, Kind, RawKind, Row, Selection, Transfer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_module_docstring_shows_the_rows() -> None:
    doc = routing.__doc__ or ""
    assert routing.render(RAW_ROWS, "rst") in doc
    assert routing.render(ROWS, "rst") in doc


def test_the_architecture_page_shows_the_rows() -> None:
    page = DOCS.read_text(encoding="utf-8")
    assert routing.render(RAW_ROWS, "markdown") in page
    assert routing.render(ROWS, "markdown") in page


def test_every_state_and_kind_has_a_row_and_every_effect_a_method() -> None:
    iso = routing.compile_rows(ROWS, Kind)
    raw = routing.compile_rows(RAW_ROWS, RawKind)
    assert len(iso) == len(Transfer) and len(iso[0]) == len(Selection) and len(iso[0][0]) == len(Kind)
    used = {e for table in (iso, raw) for states in table for kinds in states for e in kinds}
    assert used | {Effect.ANSWER_ERROR} == set(Effect)  # parse errors reach ANSWER_ERROR directly
    for effect in Effect:
        assert callable(getattr(Router, "_" + effect.name.lower()))


def test_a_hole_in_the_rows_is_an_error() -> None:
    with pytest.raises(ValueError, match="no routing row for NONE/IDLE/PROPRIETARY"):
        routing.compile_rows(ROWS[:-2], Kind)


def test_first_matching_row_wins() -> None:
    iso = routing.compile_rows(ROWS, Kind)
    assert iso[Transfer.PENDING][Selection.NONE][Kind.GET_RESPONSE_CHAINED] is Effect.NEXT_CHUNK
    assert iso[Transfer.IDLE][Selection.NONE][Kind.GET_RESPONSE_CHAINED] is Effect.BUFFER_PART
    assert iso[Transfer.PENDING][Selection.APP][Kind.CHANNEL] is Effect.CHANNEL_NOT_SUPPORTED
    assert iso[Transfer.CHAIN][Selection.APP][Kind.PROPRIETARY] is Effect.DROP_CHAIN
    assert iso[Transfer.IDLE][Selection.APP][Kind.PROPRIETARY] is Effect.PROCESS


class _Echo:
    name = "echo"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim(bytes.fromhex("F000000001"))]


@pytest.mark.parametrize("transfer", list(Transfer))
def test_the_router_runs_the_compiled_rows(transfer: Transfer, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every CLA × INS × P1 and state, the router calls the effect kind_of and the rows name.

    The router inlines kind_of on its hot path; this holds the two together.
    """
    card = Card([_Echo()])
    router = card.router
    seen: list[Effect] = []
    table = routing.compile_rows(ROWS, Kind)
    router._iso = tuple(tuple(tuple((lambda c, e=e: seen.append(e) or b"")  # type: ignore[misc]
                                    for e in kinds) for kinds in states) for states in table)
    monkeypatch.setattr(card.assembler, "transfer", transfer)
    for selection in (Selection.NONE, Selection.APP):
        router._selection = selection
        for cla, ins, p1 in itertools.product(range(256), (INS_SELECT, INS_GET_RESPONSE, 0xB0),
                                             (P1_SELECT_BY_DF_NAME, 0x00)):
            seen.clear()
            router.route(CommandApdu(cla, ins, p1, 0))
            assert seen == [table[transfer][selection][routing.kind_of(cla, ins, p1)]], (cla, ins, p1)


def test_rows_are_frozen_data() -> None:
    assert all(isinstance(row, Row) for row in ROWS + RAW_ROWS)
    with pytest.raises(AttributeError):
        ROWS[0].effect = Effect.PROCESS  # type: ignore[misc]

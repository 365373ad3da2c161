"""AID claims: Android's validation rules, matching, conflicts."""

from __future__ import annotations

import pytest
from hcekit import AidKind, Category, Claim, ClaimConflictError, ClaimError
from hcekit.aid import check_conflicts, find_conflicts, parse_aid_filter


@pytest.mark.parametrize(
    ("text", "aid", "kind"),
    [
        ("A0000000041010", bytes.fromhex("A0000000041010"), AidKind.EXACT),
        ("f001020304*", bytes.fromhex("F001020304"), AidKind.PREFIX),
        ("A0000003080000100001#", bytes.fromhex("A0000003080000100001"), AidKind.SUBSET),
        ("A0 00 00 00 04 10 10", bytes.fromhex("A0000000041010"), AidKind.EXACT),
    ],
)
def test_valid_filters(text: str, aid: bytes, kind: AidKind) -> None:
    assert parse_aid_filter(text) == (aid, kind)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A0000004", "4 bytes"),
        ("A00000000410101", "odd number"),
        ("A0000000041G10", "non-hex"),
        ("00" * 17, "17 bytes"),
        ("A000*", "2 bytes"),
        ("", "0 bytes"),
    ],
)
def test_invalid_filters_are_refused_loudly(text: str, message: str) -> None:
    with pytest.raises(ClaimError, match=message):
        parse_aid_filter(text)


def test_matching_semantics() -> None:
    exact = Claim.parse("A0000000041010")
    prefix = Claim.parse("A000000004*")
    subset = Claim.parse("A0000000041010FF#")
    assert exact.matches(bytes.fromhex("A0000000041010"))
    assert not exact.matches(bytes.fromhex("A000000004101001"))
    assert prefix.matches(bytes.fromhex("A00000000499"))
    assert subset.matches(bytes.fromhex("A0000000041010"))
    assert not subset.matches(bytes.fromhex("A000000004"[:8]))  # shorter than 5 bytes


def test_conflicts_name_both_plugins() -> None:
    owned = [
        ("transit", Claim.parse("F0010203040506")),
        ("loyalty", Claim.parse("F00102030405*")),
        ("ndef", Claim.parse("D2760000850101")),
        ("transit", Claim.parse("F00102030405")),  # same owner: no conflict with itself
    ]
    conflicts = find_conflicts(owned)
    assert {(a, b) for a, _, b, _ in conflicts} == {("transit", "loyalty"), ("loyalty", "transit")}
    with pytest.raises(ClaimConflictError, match="plugin 'transit' claims F0010203040506"):
        check_conflicts(owned)


def test_subset_overlap_needs_five_common_bytes() -> None:
    a = Claim.parse("A0000000031010#")
    b = Claim.parse("A0000000032020#")
    c = Claim.parse("A0000001031010#")
    assert a.overlaps(b)
    assert not a.overlaps(c)


def test_claim_fields_are_validated() -> None:
    with pytest.raises(ClaimError, match="priority"):
        Claim(bytes(5), Category.PAYMENT, priority=16)
    with pytest.raises(ClaimError, match="bytes"):
        Claim("A0000000041010")  # type: ignore[arg-type]
    assert Claim.parse("A0000000041010", "payment").category is Category.PAYMENT

"""Personalisation: test PANs only (unless forced), TEST defaults, the store round trip."""

from __future__ import annotations

import pytest
from hcekit import Card
from hcekit.errors import PluginLoadError
from hcekit.store import MemoryStore
from hcekit_payment import (
    CVN,
    DEFAULT_PAN,
    TEST_IMK,
    NotATestPanError,
    PaymentPlugin,
    PersonalizationError,
    personalize,
)
from hcekit_payment.atc import ATC_KEY, current_atc
from hcekit_payment.personalization import from_options, load, save
from hcekit_payment.testdata import TEST_RANGES, documented_test_range, luhn_valid

#: Luhn-valid, but not in any documented test range.
LIVE_LOOKING_PAN = "4000123412341234"


def test_defaults_are_the_documented_test_card() -> None:
    perso = personalize()
    assert perso.pan == DEFAULT_PAN and documented_test_range(perso.pan) is not None
    assert perso.test_key and not perso.forced
    assert perso.cvn is CVN.VISA_18
    assert perso.icc_mk != TEST_IMK and len(perso.icc_mk) == 16
    assert "icc_mk" not in repr(perso) and perso.icc_mk.hex() not in repr(perso).lower()


def test_every_listed_range_is_usable() -> None:
    for rng in TEST_RANGES:
        assert rng.source
        if rng.exact:
            assert luhn_valid(rng.prefix), rng.prefix
            personalize(rng.prefix)


def test_a_pan_outside_the_test_ranges_is_refused_unless_forced() -> None:
    assert luhn_valid(LIVE_LOOKING_PAN)
    with pytest.raises(NotATestPanError, match="not in a documented test range"):
        personalize(LIVE_LOOKING_PAN)
    forced = personalize(LIVE_LOOKING_PAN, force=True)
    assert forced.forced and forced.pan == LIVE_LOOKING_PAN


@pytest.mark.parametrize(("pan", "message"), [
    ("4111111111111112", "Luhn"),
    ("41111111111", "12–19 digits"),
    ("4111-1111-1111-1111", "12–19 digits"),
])
def test_malformed_pans_are_refused_even_when_forced(pan: str, message: str) -> None:
    with pytest.raises(PersonalizationError, match=message):
        personalize(pan, force=True)


@pytest.mark.parametrize(("options", "message"), [
    ({"expiry": "2913"}, "expiry"),
    ({"psn": "1"}, "sequence"),
    ({"cvn": "17"}, "unsupported CVN"),
    ({"imk": "0011"}, "16 bytes"),
    ({"imk": "zz"}, "bad payment option"),
    ({"name": "X" * 27}, "cardholder name"),
    ({"colour": "red"}, "unknown payment option"),
])
def test_bad_options_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(PersonalizationError, match=message):
        from_options(options)


def test_options_from_the_cli_are_strings() -> None:
    perso = from_options({"pan": "4761739001010010", "cvn": "10", "psn": "01",
                          "offline_limit": "2500", "force": "no", "name": "LAB/CARD"})
    assert perso.cvn is CVN.VISA_10 and perso.psn == "01" and perso.offline_limit == 2500
    assert perso.cardholder_name == "LAB/CARD"


def test_store_round_trip_keeps_the_card_key_not_the_issuer_key() -> None:
    store = MemoryStore().namespace("payment")
    perso = personalize(cvn=10, imk=bytes(range(16)), psn="02")
    save(store, perso)
    assert load(store) == perso
    assert not perso.test_key
    for key in store.keys():
        assert bytes(range(16)) not in (store.get(key) or b"")


def test_card_personalises_itself_once_and_keeps_the_atc() -> None:
    backend = MemoryStore()
    card = Card([PaymentPlugin()], store=backend)
    store = card.plugins["payment"].store
    first = load(store)
    assert first is not None and first.pan == DEFAULT_PAN
    store.set_int(ATC_KEY, 41)
    card.close()
    again = Card([PaymentPlugin()], store=backend, options={"payment": {"cvn": "10"}})
    assert load(again.plugins["payment"].store) == first  # options ignored once personalised
    assert current_atc(again.plugins["payment"].store) == 41
    again.close()


def test_card_refuses_to_start_with_a_non_test_pan() -> None:
    with pytest.raises(PluginLoadError, match="documented test range"):
        Card([PaymentPlugin()], options={"payment": {"pan": LIVE_LOOKING_PAN}})
    card = Card([PaymentPlugin()], options={"payment": {"pan": LIVE_LOOKING_PAN, "force": "1"}})
    perso = load(card.plugins["payment"].store)
    assert perso is not None and perso.forced

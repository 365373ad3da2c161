"""The TD3 MRZ and its check digits against ICAO 9303's published examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hcekit.sm.bac import check_digit
from hcekit_mrtd import SPECIMEN, MrzError, Personalization, Td3Mrz, bac_information

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "mrtd" / "icao9303_mrz_check_digits.json")
    .read_text(encoding="utf-8"))


def test_vector_file_names_its_source() -> None:
    assert "9303" in VECTORS["source"] and "Part 3" in VECTORS["source"]


@pytest.mark.parametrize("vector", VECTORS["check_digits"], ids=lambda v: v["name"])
def test_check_digit_examples(vector: dict[str, str]) -> None:
    assert check_digit(vector["field"]) == vector["check_digit"]


@pytest.mark.parametrize("vector", VECTORS["td3_specimens"], ids=lambda v: v["name"])
def test_specimen_mrz_is_built_and_parsed_exactly(vector: dict[str, Any]) -> None:
    fields: dict[str, str] = vector["fields"]
    mrz = Td3Mrz(**fields)
    assert mrz.lines == (vector["line1"], vector["line2"])
    assert Td3Mrz.parse(vector["line1"] + "\n" + vector["line2"]) == mrz
    assert mrz.bac_information == vector["mrz_information"]
    # What an inspection system accepts as keyed-in MRZ: all three forms agree.
    for text in (vector["line2"], vector["line1"] + vector["line2"], vector["mrz_information"]):
        assert bac_information(text) == vector["mrz_information"]


def test_default_document_is_the_published_specimen() -> None:
    current = VECTORS["td3_specimens"][0]
    assert SPECIMEN.lines == (current["line1"], current["line2"])
    assert Personalization.from_options({}).mrz == SPECIMEN


@pytest.mark.parametrize("position", [9, 19, 27, 42, 43])
def test_every_check_digit_is_verified(position: int) -> None:
    line1, line2 = SPECIMEN.lines
    wrong = str((int(line2[position]) + 1) % 10)
    with pytest.raises(MrzError, match="check digit"):
        Td3Mrz.parse(line1 + line2[:position] + wrong + line2[position + 1:])


def test_human_input_is_normalised_and_bad_input_refused() -> None:
    mrz = Td3Mrz.create(document_number="x1234567", issuing_state="utz", surname="de la Cruz",
                        given_names="Mary-Ann", nationality="utz", date_of_birth="900101",
                        sex="f", date_of_expiry="301231")
    assert mrz.lines[0] == "P<UTZDE<LA<CRUZ<<MARY<ANN".ljust(44, "<")
    assert Td3Mrz.parse(mrz.text) == mrz
    with pytest.raises(MrzError, match="YYMMDD"):
        Td3Mrz.create(document_number="X1", issuing_state="UTO", surname="A", given_names="",
                      nationality="UTO", date_of_birth="19900101", sex="F",
                      date_of_expiry="301231")
    with pytest.raises(MrzError, match="only A-Z"):
        Td3Mrz.create(document_number="X1", issuing_state="UTO", surname="Müller",
                      given_names="", nationality="UTO", date_of_birth="900101", sex="F",
                      date_of_expiry="301231")
    with pytest.raises(MrzError, match="longer than 9"):
        Td3Mrz.create(document_number="X123456789", issuing_state="UTO", surname="A",
                      given_names="", nationality="UTO", date_of_birth="900101", sex="F",
                      date_of_expiry="301231")
    with pytest.raises(MrzError, match="check digit"):
        bac_information("L898902C3774081221204159")
    with pytest.raises(ValueError, match="no option colour"):
        Personalization.from_options({"colour": "red"})

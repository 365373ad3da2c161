"""The TD3 (passport-size) machine readable zone: build it, check it, parse it.

ICAO Doc 9303 Part 4 fixes the layout (two lines of 44 characters) and Part 3
§4.9 the check digits. The chip stores the same 88 characters in DG1, and the
BAC keys come from three of its fields (document number, date of birth, date
of expiry, each with its check digit: :func:`hcekit.sm.bac.mrz_information`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hcekit.errors import HcekitError
from hcekit.sm.bac import check_digit, mrz_information

__all__ = ["Td3Mrz", "MrzError", "SPECIMEN", "LINE_LENGTH", "bac_information"]

LINE_LENGTH = 44
NAME_LENGTH = 39
NUMBER_LENGTH = 9
PERSONAL_NUMBER_LENGTH = 14
FILLER = "<"
_MRZ_CHARS = r"[A-Z0-9<]*"
_SEXES = ("M", "F", "<")


class MrzError(HcekitError, ValueError):
    """An MRZ field is malformed or a check digit does not match."""


def _chars(name: str, value: str, length: int | None = None) -> str:
    if not re.fullmatch(_MRZ_CHARS, value):
        raise MrzError(f"{name} {value!r}: only A-Z, 0-9 and < are allowed in the MRZ")
    if length is not None and len(value) > length:
        raise MrzError(f"{name} {value!r} is longer than {length} characters")
    return value


def _name_part(value: str) -> str:
    """Upper case; spaces, hyphens and apostrophes become fillers (Part 3 §4.6)."""
    return re.sub(r"[ \-']", FILLER, value.strip().upper())


def _date(name: str, value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise MrzError(f"{name} must be YYMMDD, got {value!r}")
    month, day = int(value[2:4]), int(value[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise MrzError(f"{name} {value!r} is not a date")
    return value


@dataclass(frozen=True)
class Td3Mrz:
    """The holder and document fields of a TD3 MRZ (values as they appear in it)."""

    document_number: str
    issuing_state: str
    surname: str
    given_names: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    personal_number: str = ""
    document_code: str = "P"

    def __post_init__(self) -> None:
        _chars("document code", self.document_code, 2)
        _chars("document number", self.document_number, NUMBER_LENGTH)
        if not self.document_number.strip(FILLER):
            raise MrzError("the document number is empty")
        for name, value in (("issuing state", self.issuing_state),
                            ("nationality", self.nationality)):
            if len(value) != 3:
                raise MrzError(f"{name} must be a 3-letter code, got {value!r}")
            _chars(name, value)
        _chars("surname", self.surname)
        _chars("given names", self.given_names)
        if not self.surname.strip(FILLER):
            raise MrzError("the surname is empty")
        _date("date of birth", self.date_of_birth)
        _date("date of expiry", self.date_of_expiry)
        if self.sex not in _SEXES:
            raise MrzError(f"sex must be M, F or <, got {self.sex!r}")
        _chars("personal number", self.personal_number, PERSONAL_NUMBER_LENGTH)

    @classmethod
    def create(cls, *, document_number: str, issuing_state: str, surname: str,
               given_names: str, nationality: str, date_of_birth: str, sex: str,
               date_of_expiry: str, personal_number: str = "") -> Td3Mrz:
        """From human input: upper-cased, separators turned into fillers."""
        return cls(document_number.strip().upper(), issuing_state.strip().upper(),
                   _name_part(surname), _name_part(given_names), nationality.strip().upper(),
                   date_of_birth.strip(), sex.strip().upper() or FILLER, date_of_expiry.strip(),
                   _name_part(personal_number))

    @property
    def name_field(self) -> str:
        """``SURNAME<<GIVEN<NAMES`` cut or filled to 39 characters."""
        name = self.surname + (FILLER * 2 + self.given_names if self.given_names else "")
        return name[:NAME_LENGTH].ljust(NAME_LENGTH, FILLER)

    @property
    def lines(self) -> tuple[str, str]:
        number = self.document_number.ljust(NUMBER_LENGTH, FILLER)
        personal = self.personal_number.ljust(PERSONAL_NUMBER_LENGTH, FILLER)
        personal_cd = FILLER if not self.personal_number else check_digit(personal)
        first = (self.document_code.ljust(2, FILLER) + self.issuing_state
                 + self.name_field)
        head = number + check_digit(number) + self.nationality
        birth = self.date_of_birth + check_digit(self.date_of_birth)
        expiry = self.date_of_expiry + check_digit(self.date_of_expiry)
        tail = personal + personal_cd
        composite = check_digit(number + check_digit(number) + birth + expiry + tail)
        second = head + birth + self.sex + expiry + tail + composite
        return first, second

    @property
    def text(self) -> str:
        """The 88 characters DG1 stores (both lines, no separator)."""
        return "".join(self.lines)

    @property
    def bac_information(self) -> str:
        """MRZ_information for the BAC keys (ICAO 9303 Part 11 §9.7.2)."""
        return mrz_information(self.document_number, self.date_of_birth, self.date_of_expiry)

    @classmethod
    def parse(cls, text: str) -> Td3Mrz:
        """Read 88 characters (or two 44-character lines), verifying every check digit."""
        flat = "".join(text.split())
        if len(flat) != 2 * LINE_LENGTH:
            raise MrzError(f"a TD3 MRZ has {2 * LINE_LENGTH} characters, got {len(flat)}")
        _chars("MRZ", flat)
        first, second = flat[:LINE_LENGTH], flat[LINE_LENGTH:]
        checks = (("document number", second[0:9], second[9]),
                  ("date of birth", second[13:19], second[19]),
                  ("date of expiry", second[21:27], second[27]),
                  ("composite", second[0:10] + second[13:20] + second[21:43], second[43]))
        for name, field, digit in checks:
            if check_digit(field) != digit:
                raise MrzError(f"{name} check digit is {digit}, expected {check_digit(field)}")
        personal = second[28:42]
        if not (second[42] == FILLER and not personal.strip(FILLER)) \
                and check_digit(personal) != second[42]:
            raise MrzError(f"personal number check digit is {second[42]}, expected "
                           f"{check_digit(personal)}")
        surname, _, given = first[5:].rstrip(FILLER).partition(FILLER * 2)
        return cls(second[0:9].rstrip(FILLER), first[2:5], surname, given.strip(FILLER),
                   second[10:13], second[13:19], second[20], second[21:27],
                   personal.rstrip(FILLER), first[0:2].rstrip(FILLER))

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs for display, fillers shown as spaces."""
        def show(v: str) -> str:
            return " ".join(v.replace(FILLER, " ").split())
        return [("Document code", self.document_code), ("Issuing state", self.issuing_state),
                ("Surname", show(self.surname)), ("Given names", show(self.given_names)),
                ("Document number", self.document_number.rstrip(FILLER)),
                ("Nationality", self.nationality), ("Date of birth", self.date_of_birth),
                ("Sex", self.sex), ("Date of expiry", self.date_of_expiry),
                ("Personal number", show(self.personal_number) or "-")]


#: ICAO's published specimen passport (Doc 9303 Part 4, Appendix A): fictional
#: state Utopia, holder Anna Maria Eriksson. The default TEST document.
SPECIMEN = Td3Mrz.create(document_number="L898902C3", issuing_state="UTO", surname="ERIKSSON",
                         given_names="ANNA MARIA", nationality="UTO", date_of_birth="740812",
                         sex="F", date_of_expiry="120415", personal_number="ZE184226B")


def bac_information(text: str) -> str:
    """MRZ_information from what an inspection system has read.

    Accepts the 24-character MRZ_information itself, the 44-character second
    line of a TD3 MRZ, or the whole 88-character MRZ; check digits are verified.
    """
    flat = "".join(text.split()).upper()
    if len(flat) == 2 * LINE_LENGTH:
        return Td3Mrz.parse(flat).bac_information
    if len(flat) == LINE_LENGTH:
        flat = flat[0:10] + flat[13:20] + flat[21:28]
    if len(flat) != 24:
        raise MrzError("give the MRZ as 24 characters (number, birth, expiry with check "
                       f"digits), one 44-character TD3 line, or 88 characters; got {len(flat)}")
    _chars("MRZ", flat)
    for name, field, digit in (("document number", flat[0:9], flat[9]),
                               ("date of birth", flat[10:16], flat[16]),
                               ("date of expiry", flat[17:23], flat[23])):
        if check_digit(field) != digit:
            raise MrzError(f"{name} check digit is {digit}, expected {check_digit(field)}")
    return flat

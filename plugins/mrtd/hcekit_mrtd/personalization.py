"""What goes on the chip: the document's MRZ fields and LDS settings, from plugin options.

Options (``--option mrtd.KEY=VALUE``; every one defaults to ICAO's published
specimen passport, so the card works with no configuration and is plainly a
TEST document): ``doc_number``, ``issuing_state``, ``surname``,
``given_names``, ``nationality``, ``dob`` (YYMMDD), ``sex`` (M/F/<),
``expiry`` (YYMMDD), ``personal_number``, ``lds_version`` (default 0108),
``unicode_version`` (default 040000), ``dg2_size`` (bytes of DG2
placeholder, 0 for no DG2; default 640).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hcekit.options import OptionGroup

from . import lds
from .mrz import SPECIMEN, Td3Mrz

__all__ = ["Personalization", "DEFAULT_DG2_SIZE", "OPTIONS", "add_options"]

DEFAULT_DG2_SIZE = 640
MAX_DG2_SIZE = 32000

#: Option name → (Td3Mrz.create argument, specimen value).
_MRZ_OPTIONS = {
    "doc_number": ("document_number", SPECIMEN.document_number),
    "issuing_state": ("issuing_state", SPECIMEN.issuing_state),
    "surname": ("surname", SPECIMEN.surname),
    "given_names": ("given_names", SPECIMEN.given_names.replace("<", " ")),
    "nationality": ("nationality", SPECIMEN.nationality),
    "dob": ("date_of_birth", SPECIMEN.date_of_birth),
    "sex": ("sex", SPECIMEN.sex),
    "expiry": ("date_of_expiry", SPECIMEN.date_of_expiry),
    "personal_number": ("personal_number", SPECIMEN.personal_number),
}
OPTIONS = (*_MRZ_OPTIONS, "lds_version", "unicode_version", "dg2_size")
_MRZ_HELP = {
    "doc_number": "document number", "issuing_state": "issuing state, 3 letters",
    "surname": "primary identifier", "given_names": "secondary identifier",
    "nationality": "nationality, 3 letters", "dob": "date of birth YYMMDD",
    "sex": "M, F or <", "expiry": "date of expiry YYMMDD",
    "personal_number": "optional personal number",
}


def add_options(options: OptionGroup) -> None:
    """Declare the document options; an MRZ field left out keeps the specimen's value."""
    for key, (_, specimen) in _MRZ_OPTIONS.items():
        options.add(key, help=f"{_MRZ_HELP[key]} (specimen: {specimen or 'empty'})")
    options.add("lds_version", default=lds.DEFAULT_LDS_VERSION, help="EF.COM LDS version")
    options.add("unicode_version", default=lds.DEFAULT_UNICODE_VERSION,
                help="EF.COM Unicode version")
    options.add("dg2_size", type=int, default=DEFAULT_DG2_SIZE,
                help=f"bytes of DG2 placeholder, 0 for no DG2 (at most {MAX_DG2_SIZE})")


@dataclass(frozen=True)
class Personalization:
    """One document: its MRZ and how its LDS files are laid out."""

    mrz: Td3Mrz = SPECIMEN
    lds_version: str = lds.DEFAULT_LDS_VERSION
    unicode_version: str = lds.DEFAULT_UNICODE_VERSION
    dg2_size: int = DEFAULT_DG2_SIZE
    files: dict[int, lds.ElementaryFile] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.dg2_size <= MAX_DG2_SIZE:
            raise ValueError(f"dg2_size must be 0..{MAX_DG2_SIZE}, got {self.dg2_size}")
        groups = [1] + ([2] if self.dg2_size else [])
        com = lds.ef_com(groups, lds_version=self.lds_version,
                         unicode_version=self.unicode_version)
        files = [lds.ElementaryFile(lds.EF_COM.fid, lds.EF_COM.sfi, lds.EF_COM.name, com),
                 lds.ElementaryFile(lds.EF_DG1.fid, lds.EF_DG1.sfi, lds.EF_DG1.name,
                                    lds.dg1(self.mrz))]
        if self.dg2_size:
            files.append(lds.ElementaryFile(lds.EF_DG2.fid, lds.EF_DG2.sfi, lds.EF_DG2.name,
                                            lds.dg2_placeholder(self.dg2_size)))
        object.__setattr__(self, "files", {f.fid: f for f in files})

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Personalization:
        """Build from ``mrtd.*`` options; unknown keys and bad values raise ValueError."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ValueError(f"mrtd has no option {', '.join(unknown)} "
                             f"(it takes: {', '.join(OPTIONS)})")
        fields = {arg: str(options.get(key, default))
                  for key, (arg, default) in _MRZ_OPTIONS.items()}
        mrz = SPECIMEN if not any(k in options for k in _MRZ_OPTIONS) else Td3Mrz.create(**fields)
        raw_size = options.get("dg2_size", DEFAULT_DG2_SIZE)
        try:
            size = int(raw_size)
        except (TypeError, ValueError):
            raise ValueError(f"mrtd.dg2_size must be an integer, got {raw_size!r}") from None
        return cls(mrz, str(options.get("lds_version", lds.DEFAULT_LDS_VERSION)),
                   str(options.get("unicode_version", lds.DEFAULT_UNICODE_VERSION)), size)

    @property
    def is_specimen(self) -> bool:
        return self.mrz == SPECIMEN

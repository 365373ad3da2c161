"""ICAO Doc 9303 eMRTD (passport chip) TEST personality with Basic Access Control.

The card side (:class:`MrtdPlugin`) holds EF.COM, EF.DG1 and a placeholder
EF.DG2 built from :mod:`.personalization`, opens a BAC secure-messaging
session through the core's SecureChannel seam, and serves the files only
inside it. :mod:`.reader` is the inspection system (terminal script
``mrtd-read``); :mod:`.mrz` builds and checks the TD3 machine readable zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .lds import EF_COM, EF_DG1, EF_DG2, ElementaryFile
    from .mrz import SPECIMEN, MrzError, Td3Mrz, bac_information
    from .personalization import Personalization
    from .plugin import MrtdPlugin
    from .protocol import EMRTD_AID
    from .reader import BacFailed, Document, read_document, read_file

__all__ = ["EF_COM", "EF_DG1", "EF_DG2", "EMRTD_AID", "SPECIMEN", "BacFailed", "Document",
           "ElementaryFile", "MrtdPlugin", "MrzError", "Personalization", "Td3Mrz",
           "bac_information", "read_document", "read_file"]

__getattr__ = lazy_exports(__name__, {
    "EF_COM": ".lds",
    "EF_DG1": ".lds",
    "EF_DG2": ".lds",
    "ElementaryFile": ".lds",
    "SPECIMEN": ".mrz",
    "MrzError": ".mrz",
    "Td3Mrz": ".mrz",
    "bac_information": ".mrz",
    "Personalization": ".personalization",
    "EMRTD_AID": ".protocol",
    "MrtdPlugin": ".plugin",
    "BacFailed": ".reader",
    "Document": ".reader",
    "read_document": ".reader",
    "read_file": ".reader",
})

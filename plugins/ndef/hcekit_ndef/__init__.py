"""NFC Forum Type 4 Tag personality: an NDEF message (URL or text) any phone reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from hcekit.ndef import decode_message, text_record, uri_record

    from .plugin import NdefPlugin
    from .protocol import NDEF_APP_AID
    from .reader import read_ndef

__all__ = ["NDEF_APP_AID", "NdefPlugin", "decode_message", "read_ndef", "text_record", "uri_record"]

__getattr__ = lazy_exports(__name__, {
    "decode_message": "hcekit.ndef",
    "text_record": "hcekit.ndef",
    "uri_record": "hcekit.ndef",
    "NDEF_APP_AID": ".protocol",
    "NdefPlugin": ".plugin",
    "read_ndef": ".reader",
})

"""NFC Forum Type 4 Tag personality: an NDEF message (URL or text) any phone reads."""

from hcekit.ndef import decode_message, text_record, uri_record

from .plugin import NdefPlugin
from .protocol import NDEF_APP_AID
from .reader import read_ndef

__all__ = ["NDEF_APP_AID", "NdefPlugin", "decode_message", "read_ndef", "text_record", "uri_record"]

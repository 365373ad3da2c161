"""Where a badge lives in the plugin store, and whether one is there: no cryptography.

The applet starts from this module alone (the cold-start rule): reading and
checking the badge's parts needs ``cryptography.x509`` and waits for the
first SELECT (:mod:`.badge`).
"""

from __future__ import annotations

from hcekit import errors as hcekit_errors
from hcekit.store import PluginStore

__all__ = ["KEY_PRIVATE", "KEY_CERT", "KEY_CHUID", "KEY_META", "KEY_PIN", "KEY_PIN_TRIES",
           "KEY_CCC_ID", "DEFAULT_PIN", "PIN_TRIES", "PIN_LENGTH", "PersonalizationError",
           "is_personalized"]

KEY_PRIVATE = "cak.key"
KEY_CERT = "cak.cert"
KEY_CHUID = "chuid"
KEY_META = "badge"
KEY_PIN = "pin"
KEY_PIN_TRIES = "pin.tries"
KEY_CCC_ID = "ccc.id"
_PARTS = (KEY_PRIVATE, KEY_CERT, KEY_CHUID, KEY_META, KEY_CCC_ID)

#: PIN of a self-personalized TEST badge (SP 800-73-4: 6–8 digits, padded with FF to 8 bytes).
DEFAULT_PIN = "123456"
PIN_TRIES = 3
PIN_LENGTH = 8


class PersonalizationError(hcekit_errors.PersonalizationError):
    """The personalization request is inconsistent (issuer key without cert, bad PIN, …)."""


def is_personalized(store: PluginStore) -> bool:
    """True when *store* holds a whole badge, False when it holds none; an incomplete one raises."""
    present = [key in store for key in _PARTS]
    if not any(present):
        return False
    if not all(present):
        raise PersonalizationError("the badge store is incomplete; personalize again")
    return True

"""Aliro NFC access credential personality (CSA Aliro, expedited and step-up phases).

The card is :class:`AliroPlugin` (entry point ``aliro``), built on the plain
state machines of :mod:`.applet`; :mod:`.reader` is a door reader (terminal
script ``aliro-reader``, ``hcekit aliro reader``). See ``docs/aliro.md``;
every byte the public material leaves open is in :mod:`.assumptions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .applet import ExpeditedSession, StepUpSession
    from .credential import Credential, Personalization, TrustedGroup
    from .plugin import AliroPlugin
    from .protocol import EXPEDITED_AID, STEP_UP_AID

__all__ = ["EXPEDITED_AID", "STEP_UP_AID", "AliroPlugin", "Credential", "ExpeditedSession",
           "Personalization", "StepUpSession", "TrustedGroup"]

__getattr__ = lazy_exports(__name__, {
    "ExpeditedSession": ".applet",
    "StepUpSession": ".applet",
    "Credential": ".credential",
    "Personalization": ".credential",
    "TrustedGroup": ".credential",
    "AliroPlugin": ".plugin",
    "EXPEDITED_AID": ".protocol",
    "STEP_UP_AID": ".protocol",
})

"""Aliro NFC access credential personality (CSA Aliro, expedited and step-up phases).

The card is :class:`AliroPlugin` (entry point ``aliro``), built on the plain
state machines of :mod:`.applet`; :mod:`.reader` is a door reader (terminal
script ``aliro-reader``, ``hcekit aliro reader``). See ``docs/aliro.md``;
every byte the public material leaves open is in :mod:`.assumptions`.
"""

from .applet import ExpeditedSession, StepUpSession
from .credential import Credential, Personalization, TrustedGroup
from .plugin import AliroPlugin
from .protocol import EXPEDITED_AID, STEP_UP_AID

__all__ = ["EXPEDITED_AID", "STEP_UP_AID", "AliroPlugin", "Credential", "ExpeditedSession",
           "Personalization", "StepUpSession", "TrustedGroup"]

"""The hook glue: claims both Aliro AIDs and hands each command to the plain state machines.

Everything protocol-specific is in :mod:`.applet`; this class only routes,
keeps per-selection state in ``app.session`` and marks every exchange after
SELECT sensitive (they carry ephemeral keys, cryptograms, signatures and
encrypted payloads). The expedited session of a tap (its secure channel and
step-up keys) travels to the step-up selection through ``self._expedited``
and is dropped when the field goes or the expedited application is selected
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hcekit import AppContext, Category, Claim, CommandApdu, DeactivationReason, PluginContext, hookimpl
from hcekit.options import OptionGroup

from .protocol import EXPEDITED_AID, STEP_UP_AID
from .storage import add_options, is_personalised

if TYPE_CHECKING:
    from hcekit.personalization import Personalization as Declared
    from hcekit.store import PluginStore
    from hcekit.terminal import TerminalScript

    from .applet import ExpeditedSession
    from .credential import Credential, Personalization

__all__ = ["AliroPlugin"]

_SESSION = "aliro"


class AliroPlugin:
    """Aliro NFC access credential (entry point ``aliro``).

    On first start an empty store is personalised — with *personalization*
    if given, else from the declared options (``--option aliro.group=…``,
    ``reader_key``, ``issuer_key``, ``documents``, ``mailbox_write``), by
    default a fresh endpoint key and the public TEST reader group
    (:mod:`.testkeys`), so ``hcekit demo`` works. A personalised store is
    never overwritten here (``hcekit aliro personalize --force`` does that).
    """

    name = "aliro"
    #: Conformance probes: CLA 80 is this plugin's class, so unknown-CLA probes skip it.
    conformance = {"unknown_ins": [(0x80, 0x42)]}

    def __init__(self, personalization: Personalization | None = None) -> None:
        self._personalization = personalization
        self._store: PluginStore | None = None
        self._loaded: Credential | None = None
        self._expedited: ExpeditedSession | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        add_options(options)

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        self._store = plugin.store
        given = {k for k, v in plugin.options.items()
                 if v is not None and k not in ("documents", "mailbox_write")}
        if is_personalised(plugin.store):
            if given:
                plugin.log.warning("options %s not applied: the store already holds an Aliro "
                                   "credential (hcekit aliro personalize --force replaces it)",
                                   ", ".join(sorted(given)))
            return
        from .credential import Personalization  # key generation: only for an empty store

        personalization = self._personalization or Personalization.from_options(plugin.options)
        personalization.write(plugin.store)
        if personalization.test:
            plugin.log.info("personalised a new Aliro credential for the TEST reader group "
                            "(public test keys)")

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(EXPEDITED_AID, Category.OTHER, description="Aliro expedited phase"),
                Claim(STEP_UP_AID, Category.OTHER, description="Aliro step-up phase")]

    def _credential(self) -> Credential:
        """The stored credential, opened at the first SELECT (the cold-start rule)."""
        if self._loaded is None:
            assert self._store is not None, "hcekit_startup has not run"
            from .credential import Credential

            self._loaded = Credential(self._store)
        return self._loaded

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        from .applet import ExpeditedSession, StepUpSession
        from .fci import select_answer, step_up_select_answer

        if app.claim.aid == STEP_UP_AID:
            app.session[_SESSION] = StepUpSession(self._credential(), self._expedited)
            return step_up_select_answer()
        self._expedited = app.session[_SESSION] = ExpeditedSession(self._credential())
        return select_answer()

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        app.mark_sensitive()
        session = app.session[_SESSION]
        answer: bytes = session.process(command)
        return answer

    @hookimpl
    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self._expedited = None

    @hookimpl
    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        if not active:
            self._expedited = None

    # -- observers ------------------------------------------------------------------------------

    @hookimpl
    def hcekit_terminal_scripts(self) -> Sequence[TerminalScript]:
        from .reader import SCRIPTS

        return SCRIPTS

    @hookimpl
    def hcekit_personalization(self) -> Declared[Any]:
        from .cli import personalization

        return personalization(AliroPlugin)

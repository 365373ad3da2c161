"""The plugin contract: every hook a card personality or observer can implement.

Plugin authors read this one module. Implement a hook by writing a function
(or method) of the same name decorated with ``@hcekit.hookimpl``; you may
leave out trailing arguments you do not use, as with pytest.

Lifecycle hooks (``startup``, ``claims``, ``select``, ``process``,
``deselect``, ``deactivated``, ``shutdown``) are called by the card on *one*
plugin at a time — the one that owns the claim or is being started — never
broadcast. The mapping to Java Card is one to one: ``select`` ↔
``Applet.select()``, ``process`` ↔ ``Applet.process(APDU)``, ``deselect`` ↔
``Applet.deselect()``; raise :class:`hcekit.IsoError` as you would call
``ISOException.throwIt(sw)``.

Observer hooks (``trace``, ``field``, ``add_commands``, ``terminal_scripts``)
are broadcast to every plugin that implements them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .aid import Claim
    from .apdu import CommandApdu, ResponseApdu
    from .context import AppContext, PluginContext
    from .events import DeactivationReason
    from .terminal.script import TerminalScript
    from .trace import TraceRecord

PROJECT_NAME = "hcekit"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# -- lifecycle (called on the owning plugin only) ----------------------------


@hookspec
def hcekit_startup(plugin: PluginContext) -> None:
    """The card is starting with this plugin loaded.

    Called once per card, before ``hcekit_claims``. ``plugin`` carries the
    plugin's name, its options (``plugin.options``), its persistent store
    (``plugin.store``) and a logger. Personalise missing state here (generate
    keys, write default files) inside ``plugin.store.transaction()``.
    Raising here stops the card from starting, with the plugin named.
    """


@hookspec
def hcekit_claims(plugin: PluginContext) -> Sequence[Claim]:
    """Return the AIDs this plugin answers for.

    Each :class:`hcekit.Claim` has an AID (exact, prefix ``*`` or subset
    ``#``), a category (``payment`` claims are listed in the PPSE and need
    the default-payment-app role on Android) and a description. Claims are
    validated with Android's rules; overlapping claims of two plugins stop the
    card with both plugins named. Called at start-up and after
    ``Card.register``; the answer is cached.
    """
    raise NotImplementedError


@hookspec
def hcekit_select(app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
    """A SELECT by DF name routed to one of this plugin's claims.

    ``app.aid`` is the DF name the reader selected, ``app.claim`` the claim it
    matched; ``app.session`` is a fresh dict for this selection (cleared on
    deselect, like Java Card's CLEAR_ON_DESELECT transient memory). Return
    the FCI (response data with 9000) or a :class:`ResponseApdu`; raise
    :class:`IsoError` to refuse — the previous selection then stays as it was.
    Not implementing this hook answers 9000 with no data.
    """


@hookspec
def hcekit_process(app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
    """One command APDU for the selected application.

    Called for every command after a successful select, except the ones the
    core answers itself (SELECT by DF name, GET RESPONSE during response
    chaining, the intermediate parts of command chaining). Chained commands
    arrive reassembled; with a secure channel installed they arrive
    unwrapped. Return response data (9000), a :class:`ResponseApdu`, or None;
    raise :class:`IsoError` for an error status word. Any other exception
    answers 6F00 and is logged with its traceback; the card keeps serving.
    Data longer than the reader's Ne is chained with 61xx by the core.
    """


@hookspec
def hcekit_deselect(app: AppContext) -> None:
    """Another application of this card was selected; this one is no longer current.

    Called after the new application's ``hcekit_select`` succeeded (a refused
    SELECT leaves this application selected). Not called when the reader
    selects this same application again (``hcekit_select`` runs again with a
    fresh ``app``), nor when the field is lost (see ``hcekit_deactivated``).
    Exceptions are logged and ignored.
    """


@hookspec
def hcekit_deactivated(app: AppContext, reason: DeactivationReason) -> None:
    """The reader went away while this application was selected.

    ``reason`` is Android's code: ``LINK_LOSS`` (0) when the field was lost,
    ``DESELECTED`` (1) when the reader selected an AID outside this card.
    Roll back anything a half-finished tap left open. Exceptions are logged
    and ignored.
    """


@hookspec
def hcekit_shutdown(plugin: PluginContext) -> None:
    """The card is closing (host stopped, process exiting). Release resources."""


# -- observers (broadcast) ------------------------------------------------------


@hookspec
def hcekit_trace(record: TraceRecord) -> None:
    """One command/response exchange finished.

    ``record`` holds the raw command and response, the selected AID and the
    time spent. ``record.sensitive`` is set when the exchange carries secrets
    (an application called ``app.mark_sensitive()``, or secure messaging is
    active); format it with :func:`hcekit.trace.format_record`, which redacts
    such records unless explicitly asked. Only called when at least one plugin
    implements it, so an unobserved card pays nothing. This is also the
    metrics feed: :class:`hcekit.metrics.MetricsCollector` counts exchanges,
    status words and card-side latency from it.
    """


@hookspec
def hcekit_field(card: object, active: bool, reason: DeactivationReason | None) -> None:
    """The field came on (``active`` True) or went off with ``reason``."""


@hookspec
def hcekit_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hcekit`` CLI sub-commands (as pytest's ``pytest_addoption``).

    Each sub-parser should ``set_defaults(handler=callable)``; the handler
    gets the parsed ``argparse.Namespace`` and returns an exit status.
    """


@hookspec
def hcekit_terminal_scripts() -> Sequence[TerminalScript]:
    """Reader-side scripts this plugin offers (a gate validator, a door reader…).

    They run over any terminal transport: ``hcekit demo`` runs the ones
    marked ``demo=True`` against the loopback card; ``hcekit tap`` runs one by
    name over loopback or PC/SC.
    """
    raise NotImplementedError

"""The plugin contract: every hook a card personality or observer can implement.

Plugin authors read this one module. Implement a hook by writing a function
(or method) of the same name, normally decorated with ``@hcekit.hookimpl``; as
with pytest, a function named ``hcekit_…`` is a hook even without the marker,
you may leave out trailing arguments you do not use, and a misspelt
``hcekit_…`` name is refused when the plugin is registered.

There are three kinds of hook, and each hook's docstring says which it is.

**Application hooks** (``hcekit_select``, ``hcekit_process``,
``hcekit_deselect``, ``hcekit_deactivated``) are *owner-only*: the card calls
the function of the one plugin whose claim the reader selected, directly,
without a pluggy hook call (a pluggy call costs about 1 µs, a bare call about
0.04 µs, and ``process`` runs for every APDU). They map one to one onto Java
Card: ``select`` ↔ ``Applet.select()``, ``process`` ↔
``Applet.process(APDU)``, ``deselect`` ↔ ``Applet.deselect()``; raise
:class:`hcekit.IsoError` as you would call ``ISOException.throwIt(sw)``. A
plugin implementing one of them must also implement ``hcekit_claims``: there
is no way to reach an application that owns no AID.

**Plugin hooks** (``hcekit_addoption``, ``hcekit_startup``, ``hcekit_claims``,
``hcekit_polling_loop``, ``hcekit_polling_frame``, ``hcekit_shutdown``,
``hcekit_terminal_scripts``, ``hcekit_add_commands``, ``hcekit_personalization``) are
also *owner-only*: the card or the CLI calls each plugin's own function once,
for that plugin (its options, its store, its claims, its scripts), so that
every answer is attributed to the plugin that gave it.

Because the core calls owner-only hooks itself, the pluggy options that change
how a hook call runs — ``wrapper``, ``hookwrapper``, ``tryfirst``, ``trylast``
— would not be honoured on them; registration refuses them with
:class:`hcekit.errors.PluginLoadError` naming the plugin and the hook, rather
than ignore them silently. ``specname`` (implementing a hook under another
function name) and ``optionalhook`` work as in pluggy.

**Broadcast hooks** (``hcekit_trace``, ``hcekit_field``, ``hcekit_polling``)
are ordinary pluggy hooks: every plugin implementing one is called, in
pluggy's order, and every hookimpl option is honoured (``tryfirst`` to be
first, ``wrapper=True`` to wrap the others). ``hcekit_atr`` is asked of every
plugin too, but the card picks the answer by a rule that does not depend on
load order (see the hook); ``tryfirst``/``trylast`` rank the answers,
``wrapper``/``hookwrapper`` are refused on it. None of them is called per APDU
except ``hcekit_trace``, and that only when some plugin implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# The markers live in hcekit.markers; hcekit.hookspecs.hookimpl keeps working.
from .markers import PROJECT_NAME as PROJECT_NAME
from .markers import hookimpl as hookimpl
from .markers import hookspec

if TYPE_CHECKING:
    import argparse

    from .aid import Claim
    from .apdu import CommandApdu, ResponseApdu
    from .context import AppContext, CardView, PluginContext
    from .events import DeactivationReason
    from .options import OptionGroup
    from .personalization import Personalization
    from .polling import Decision, PollingEvent, PollingFrame, PollingLoop
    from .terminal.script import TerminalScript
    from .trace import TraceRecord

__all__ = [
    "APPLICATION_HOOKS",
    "BROADCAST_HOOKS",
    "OWNER_ONLY_HOOKS",
    "PLUGIN_HOOKS",
    "REFUSED_ON_ATR",
    "REFUSED_ON_OWNER_ONLY",
]


#: Called on the plugin owning the selected claim, directly (never broadcast).
APPLICATION_HOOKS = frozenset(
    {"hcekit_select", "hcekit_process", "hcekit_deselect", "hcekit_deactivated"})
#: Called once on each plugin, for that plugin.
PLUGIN_HOOKS = frozenset({"hcekit_addoption", "hcekit_startup", "hcekit_claims",
                          "hcekit_polling_loop", "hcekit_polling_frame",
                          "hcekit_shutdown", "hcekit_terminal_scripts", "hcekit_add_commands",
                          "hcekit_personalization"})
#: Every hook the core calls on one plugin directly (application and plugin hooks).
OWNER_ONLY_HOOKS = APPLICATION_HOOKS | PLUGIN_HOOKS
#: Ordinary pluggy hooks: every implementation runs, every hookimpl option is honoured.
BROADCAST_HOOKS = frozenset({"hcekit_atr", "hcekit_trace", "hcekit_field", "hcekit_polling"})
#: hookimpl options that change how a pluggy hook call runs; refused on owner-only hooks.
REFUSED_ON_OWNER_ONLY = ("wrapper", "hookwrapper", "tryfirst", "trylast")
#: hookimpl options refused on ``hcekit_atr``, whose answers the card ranks itself.
REFUSED_ON_ATR = ("wrapper", "hookwrapper")


# -- plugin hooks (owner-only: each plugin's own function, once) -------------------------


@hookspec
def hcekit_addoption(options: OptionGroup) -> None:
    """Declare this plugin's options (as pytest's ``pytest_addoption``).

    *Owner-only plugin hook*, called once when the plugin is registered on a
    card, and by ``hcekit plugins`` / ``hcekit serve --help`` to list them.
    ``options`` is this plugin's :class:`hcekit.options.OptionGroup`; call
    ``options.add(name, type=…, default=…, help=…, choices=…)`` for each one.
    Returns nothing. Given options (``--option PLUGIN.KEY=VALUE``,
    ``Card(options=…)``) are checked against the declarations before
    ``hcekit_startup``: an unknown plugin, an unknown key or an ill-typed value
    is an error naming the closest match. A plugin that declares nothing
    accepts no options.
    """


@hookspec
def hcekit_startup(plugin: PluginContext) -> None:
    """The card is starting with this plugin loaded.

    *Owner-only plugin hook*, called once per card on each plugin, before
    ``hcekit_claims``. ``plugin`` carries the plugin's name, its checked
    options (``plugin.options``: every declared option, converted to its type,
    defaults filled in), its persistent store (``plugin.store``, a namespace
    named after the plugin) and a logger. Personalise missing state here
    (generate keys, write default files) inside ``plugin.store.transaction()``.
    Returns nothing; raising stops the card from starting, with the plugin
    named.
    """


@hookspec
def hcekit_claims(plugin: PluginContext) -> Sequence[Claim]:
    """Return the AIDs this plugin answers for.

    *Owner-only plugin hook*, called once per card on each plugin, right after
    its ``hcekit_startup``; the answer is cached for the card's life. A
    listing (``hcekit plugins``, :mod:`hcekit.listing`) calls it *without*
    ``hcekit_startup``, with the declared option defaults and an empty
    in-memory store: answer from the options then, never personalise to
    list (a plugin that raises is started on a throwaway card, and the
    listing says so). Each
    :class:`hcekit.Claim` has an AID (exact, prefix ``*`` or subset ``#``), a
    category (``payment`` claims are listed in the PPSE and need the
    default-payment-app role on Android) and a description. Claims are
    validated with Android's rules; overlapping claims of two plugins stop the
    card with both plugins named. An empty sequence is allowed (nothing to
    serve yet).
    """
    raise NotImplementedError


@hookspec
def hcekit_polling_loop(plugin: PluginContext) -> PollingLoop | None:
    """Declare what this plugin wants from a reader's polling loop (Android 15 observe mode).

    *Owner-only plugin hook*, called once per card on each plugin, after its
    ``hcekit_claims``; the answer is cached for the card's life. Return a
    :class:`hcekit.polling.PollingLoop`: ``filters`` are
    :class:`hcekit.polling.PollingFilter` values — an exact custom frame
    (``PollingFilter.exact``) or a pattern over its upper-case hex
    (``PollingFilter.pattern``), each with ``auto_transact`` — validated as
    Android's ``CardEmulation.registerPollingLoop[Pattern]FilterForService``
    validates them; ``observe_by_default`` asks the card to start every tap in
    observe mode (``shouldDefaultToObserveMode``; one service serves every
    plugin, so it silences the whole card until a filter or a plugin releases
    it). Filters of two plugins that one frame could match stop the card with
    both plugins named, as overlapping AID claims do. Return None to declare
    nothing. ``hcekit android aid-xml`` writes these filters into the service
    XML; the Android host registers them at run time.
    """


@hookspec
def hcekit_polling_frame(plugin: PluginContext, frame: PollingFrame) -> Decision | None:
    """One frame of a reader's polling loop, before any APDU.

    *Owner-only plugin hook*. A custom frame (``frame.type`` is
    ``FrameType.UNKNOWN``) that one of this plugin's filters matches goes to
    this plugin only; every other frame (the reader's A, B and F polls, field
    ON/OFF, custom frames no filter matches) goes to every plugin implementing
    this hook, in registration order. ``frame`` carries Android's
    ``PollingFrame`` fields: ``type``, ``data``, ``gain``, ``timestamp`` and
    ``triggered_auto_transact`` (the controller already left observe mode for
    this tap because the matching filter has autoTransact).

    Runs on the thread that drives the card — the card's worker on Android,
    never the app's main thread; the card lock is held, so keep it short (the
    reader polls every few milliseconds) and do no I/O. It may read its store
    and remember what it saw in its own state; it cannot answer the reader.
    Return :attr:`Decision.TRANSACT <hcekit.polling.Decision.TRANSACT>` to leave
    observe mode for this tap (the card answers the reader),
    :attr:`Decision.SILENT <hcekit.polling.Decision.SILENT>` to stay silent for
    this tap (it wins over TRANSACT and over autoTransact; on a phone the
    controller may already have answered one poll after an autoTransact), or
    None to leave the decision as it is. The decision lasts until the reader
    goes away. An exception is logged and the frame ignored.
    """


@hookspec
def hcekit_shutdown(plugin: PluginContext) -> None:
    """The card is closing (host stopped, process exiting) or the plugin is unregistered.

    *Owner-only plugin hook*, called once on each plugin. Release resources.
    Returns nothing; exceptions are logged and ignored.
    """


@hookspec
def hcekit_terminal_scripts() -> Sequence[TerminalScript]:
    """Reader-side scripts this plugin offers (a gate validator, a door reader…).

    *Owner-only plugin hook*, called once on each plugin by the CLI (and by
    tools listing scripts); each script is listed under the plugin that
    returned it. They run over any terminal transport: ``hcekit demo`` runs
    the ones marked ``demo=True`` against the loopback card; ``hcekit tap``
    runs one by name over loopback or PC/SC.
    """
    raise NotImplementedError


@hookspec
def hcekit_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hcekit`` CLI sub-commands.

    *Owner-only plugin hook*, called once on each installed plugin while the
    CLI builds its parser; a plugin that fails here is logged and left out,
    the CLI keeps working. Each sub-parser should ``set_defaults(handler=…)``;
    the handler gets the parsed ``argparse.Namespace`` and returns an exit
    status. Returns nothing.
    """


@hookspec
def hcekit_personalization() -> Personalization[Any] | None:
    """How an issuer personalises this plugin's card from the command line.

    *Owner-only plugin hook*, called once on each installed plugin while the
    CLI builds its parser. Return a :class:`hcekit.personalization.Personalization`
    (its arguments, how to check them, how to write and show a card) and the
    core adds ``hcekit NAME personalize`` and ``hcekit NAME show``, NAME being
    the plugin's entry-point name, which is also the store namespace written —
    the one the card reads. The core owns ``--store``, ``--force`` (replace an
    existing card; never without it), the exit statuses (2 usage, 1 failure)
    and the transaction; the plugin never opens a store itself. Return None
    for no personalisation commands.
    """


# -- application hooks (owner-only: the plugin owning the selected claim) ----------------


@hookspec
def hcekit_select(app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
    """A SELECT by DF name routed to one of this plugin's claims.

    *Owner-only application hook*, called on the plugin owning the matching
    claim. ``app.aid`` is the DF name the reader selected, ``app.claim`` the
    claim it matched; ``app.session`` is a fresh dict for this selection
    (cleared on deselect, like Java Card's CLEAR_ON_DESELECT transient
    memory). Return the FCI (response data with 9000) or a
    :class:`ResponseApdu`; raise :class:`IsoError` to refuse — the previous
    selection then stays as it was. Not implementing this hook answers 9000
    with no data.
    """


@hookspec
def hcekit_process(app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
    """One command APDU for the selected application.

    *Owner-only application hook*, called on the plugin owning the selected
    application for every command after a successful select, except the ones
    the core answers itself (SELECT by DF name, GET RESPONSE during response
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

    *Owner-only application hook*, called on the plugin owning ``app`` after
    the new application's ``hcekit_select`` succeeded (a refused SELECT leaves
    this application selected). Not called when the reader selects this same
    application again (``hcekit_select`` runs again with a fresh ``app``), nor
    when the field is lost (see ``hcekit_deactivated``). Returns nothing;
    exceptions are logged and ignored.
    """


@hookspec
def hcekit_deactivated(app: AppContext, reason: DeactivationReason) -> None:
    """The reader went away while this application was selected.

    *Owner-only application hook*, called on the plugin owning ``app``.
    ``reason`` is Android's code: ``LINK_LOSS`` (0) when the field was lost,
    ``DESELECTED`` (1) when the reader selected an AID outside this card or
    the plugin was unregistered. Roll back anything a half-finished tap left
    open. Returns nothing; exceptions are logged and ignored.
    """


# -- broadcast hooks (pluggy; every option honoured) --------------------------------------


@hookspec(firstresult=True)
def hcekit_atr(card: CardView) -> bytes | None:
    """The ATR this card presents in a PC/SC reader (vpcd), or None for no preference.

    *Broadcast, one winner*: asked of every plugin once when a host that
    shows an ATR starts (:func:`hcekit.atr.plugin_atr`). The non-None answer
    of the highest rank wins — ``@hookimpl(tryfirst=True)`` outranks an
    unmarked implementation, which outranks ``trylast`` — and between equal
    ranks the plugin whose name sorts first wins, with a warning naming every
    plugin that answered, whatever the load order. ``wrapper``/``hookwrapper``
    are refused here. A contactless card has no ATR of its own — the reader builds one
    from the ATS historical bytes — so build yours with
    :func:`hcekit.atr.contactless_atr` from your historical bytes. The answer
    is checked (:func:`hcekit.atr.check_atr`); a malformed ATR stops the host
    with the plugin named. Precedence: ``hcekit serve --atr`` (a host's
    explicit ``atr=``) wins over this hook, which wins over
    :data:`hcekit.atr.DEFAULT_ATR`. Android has no ATR; it ignores this hook.
    """


@hookspec
def hcekit_trace(record: TraceRecord) -> None:
    """One command/response exchange finished.

    *Broadcast*, called after every exchange on every plugin implementing it
    (only when at least one does, so an unobserved card pays nothing).
    ``record`` holds the raw command and response, the selected AID and the
    time spent. ``record.sensitive`` is set when the exchange carries secrets
    (an application called ``app.mark_sensitive()``, or secure messaging is
    active); format it with :func:`hcekit.trace.format_record`, which redacts
    such records unless explicitly asked. This is also the metrics feed:
    :class:`hcekit.metrics.MetricsCollector` counts exchanges, status words
    and card-side latency from it. Returns nothing; an exception is logged
    and the card keeps serving.
    """


@hookspec
def hcekit_polling(card: CardView, event: PollingEvent) -> None:
    """The card saw one polling-loop frame (``event.frame``).

    *Broadcast*, called on every plugin implementing it after the frame was
    routed: ``event.plugin`` names the plugin whose filter matched (None: no
    filter), ``event.decision`` is the tap's decision after it. Trace and
    capture recorders write polling frames from here. Returns nothing.
    """


@hookspec
def hcekit_field(card: CardView, active: bool, reason: DeactivationReason | None) -> None:
    """The field came on (``active`` True, ``reason`` None) or went off with ``reason``.

    *Broadcast*, called on every plugin implementing it, after the selected
    application (if any) got ``hcekit_deactivated``. Returns nothing.
    """

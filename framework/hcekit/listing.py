"""What a plugin declares — claims, polling loop, options — read without starting it.

A listing (``hcekit plugins``) must not cost what a card costs: no
``hcekit_startup``, so no personalisation, no key generation, no store. Each
plugin is registered on a plugin manager of its own (the hook contract is
checked as on a card), declares its options, and answers ``hcekit_claims``
and ``hcekit_polling_loop`` with a context whose options are the declared
defaults and whose store is an empty in-memory one. :mod:`hcekit.hookspecs`
asks plugins to answer their claims that way. A plugin whose declarations
need its startup is started on a throwaway in-memory card instead, and the
listing says so (:attr:`Listing.started`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .aid import Claim
from .card import Card
from .context import PluginContext
from .errors import ClaimError, HcekitError, PluginLoadError
from .options import OptionGroup
from .plugins import HcekitPluginManager, declared_options, own_hook
from .polling import PollingRouter
from .registry import ask_polling_loop
from .store import MemoryStore

__all__ = ["Listing", "list_plugin"]


@dataclass(frozen=True)
class Listing:
    """One plugin as a listing shows it."""

    name: str
    plugin: object
    claims: tuple[Claim, ...]
    options: OptionGroup
    #: The manager the plugin is registered on (for its scripts and other owner-only hooks).
    plugin_manager: HcekitPluginManager
    #: Its polling-loop filters and observe-mode wish (``hcekit_polling_loop``).
    polling: PollingRouter
    #: True when the declarations came from a started throwaway card (they needed
    #: ``hcekit_startup``).
    started: bool = False


def list_plugin(name: str, plugin: object) -> Listing:
    """*plugin*'s claims and options; :class:`~hcekit.errors.PluginLoadError` if it is invalid."""
    pm = HcekitPluginManager()
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except PluginLoadError:
        raise
    except Exception as exc:
        raise PluginLoadError(f"plugin {name!r} is invalid: {exc}") from exc
    options = declared_options(pm, plugin, name)
    claims_fn = own_hook(pm, plugin, "hcekit_claims")
    host = Card(store=MemoryStore())  # a card with no plugin: the context's owner, nothing more
    context = PluginContext(host, name, plugin, host.store.namespace(name), options.resolve({}))
    polling = PollingRouter()
    try:
        claims = tuple(claims_fn(context) or ()) if claims_fn is not None else ()
        polling.declare(name, context, ask_polling_loop(
            name, context, own_hook(pm, plugin, "hcekit_polling_loop")), None)
        polling.rebuild([name])
        started = False
    except HcekitError:
        raise  # an invalid declaration is the plugin's error, not a reason to start it
    except Exception:
        with Card([(name, plugin)], store=MemoryStore()) as card:
            claims = tuple(claim for owner, claim in card.claims() if owner == name)
            polling = card.polling
        started = True
    for claim in claims:
        if not isinstance(claim, Claim):
            raise ClaimError(f"plugin {name!r} returned {claim!r} from hcekit_claims; "
                             "expected hcekit.Claim")
    return Listing(name, plugin, claims, options, pm, polling, started)

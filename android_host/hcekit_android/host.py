"""The Android host: a :class:`~hcekit.card.Card` behind the Java HCE shim.

Plugins and the card core run unchanged; this host only attaches the card to
the shim (``HcekitBridge.setListener``), maps the phone's NFC state onto
:class:`~hcekit.device.DeviceState`, and registers AIDs with Android
(``registerAidsForService``: one group per category, replacing the previous
group of that category, the static one from the AID XML included).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from hcekit.aid import Category, Claim, parse_aid_filter
from hcekit.card import Card
from hcekit.device import MAX_DYNAMIC_AIDS, DeviceState, ErrCode, HceError, check_ready
from hcekit.errors import ClaimError
from hcekit.hosts.base import Host
from hcekit.polling import Decision

from .bridge import DISPATCH_MODES, SERVICE_CLASS, CardBridge, Dispatch, java_bridge, make_listener
from .observe import (
    MIN_OBSERVE_MODE_API,
    FilterRegistration,
    filter_registrations,
    observe_mode_after_tap,
    observe_mode_call,
    observe_mode_downgrade,
)
from .platform import AndroidNfc, NotDefaultPaymentApp, android_context

__all__ = ["AndroidHost", "validate_aids", "android_category", "claims_by_category",
           "routable_filters"]

log = logging.getLogger("hcekit.android")

#: The core's PPSE plugin name: Android routes SELECT 2PAY.SYS.DDF01 to the default
#: payment service, so its claim belongs in the payment group on Android.
PPSE_PLUGIN = "ppse"


def android_category(plugin: str, claim: Claim) -> Category:
    """The category Android must see *claim* in."""
    return Category.PAYMENT if plugin == PPSE_PLUGIN else claim.category


def claims_by_category(claims: Sequence[tuple[str, Claim]]) -> dict[Category, list[Claim]]:
    grouped: dict[Category, list[Claim]] = defaultdict(list)
    for plugin, claim in claims:
        grouped[android_category(plugin, claim)].append(claim)
    return dict(grouped)


def routable_filters(claims: Sequence[tuple[str, Claim]], *, prefixes: bool) -> list[str]:
    """The filters to register for *claims* on a controller with or without prefix routing.

    Android accepts a ``*`` (prefix) or ``#`` (subset) AID on a controller that
    cannot route it and then ignores that one AID (AOSP RegisteredAidCache
    generateAidCacheLocked skips them unless supportsAidPrefixRouting/
    SubsetRouting). So a card never fails to start over one such claim: it is
    degraded to its exact AID (which the prefix or subset set contains) with a
    warning naming the AID and the plugin. No public API reports subset
    routing, so every ``#`` claim is registered as written and warned about once.
    """
    filters: list[str] = []
    for plugin, claim in claims:
        kind = claim.kind.value
        text = claim.aid.hex().upper()
        if kind and not prefixes:
            log.warning("plugin %s claims %s%s, but this phone's NFC controller routes no prefix "
                        "or subset AIDs (supportsAidPrefixRegistration() is false): registering "
                        "%s exactly; readers selecting other AIDs of that set will not reach it",
                        plugin, text, kind, text)
            filters.append(text)
            continue
        if kind == "#":
            log.warning("plugin %s claims the subset AID %s#: Android routes it only where the "
                        "controller supports subset routing, which no public API reports",
                        plugin, text)
        filters.append(text + kind)
    return filters


def validate_aids(aids: object) -> list[str]:
    """Android filter notation, upper-case, each once; 13003 for what Android would refuse.

    A repeated AID is kept once (Android's AidGroup accepts repeats and routes
    the AID once); whether a repeat in an app's own list is an error is the
    caller's rule, the same on every host.
    """
    if isinstance(aids, str | bytes) or not isinstance(aids, Sequence):
        raise HceError(ErrCode.INVALID_AID_LIST, f"expected a list of AIDs, got {type(aids).__name__}")
    if not aids:
        raise HceError(ErrCode.INVALID_AID_LIST, "the AID list is empty")
    cleaned: list[str] = []
    for aid in aids:
        try:
            body, kind = parse_aid_filter(aid)
        except ClaimError as exc:
            raise HceError(ErrCode.INVALID_AID_LIST, str(exc)) from exc
        text = body.hex().upper() + kind.value
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_DYNAMIC_AIDS:
        raise HceError(ErrCode.INVALID_AID_LIST,
                       f"{len(cleaned)} AIDs; Android accepts at most {MAX_DYNAMIC_AIDS} per category")
    return cleaned


class AndroidHost(Host):
    """Serves *card* through ``org.hcekit.android.HcekitApduService``.

    *context* is an ``android.content.Context`` (default: the p4a app's).
    *deadline_ms* sets the shim's answer deadline (default: the shim's 1000 ms).
    *dispatch*: ``"worker"`` (default) or ``"inline"`` (unsafe: a slow plugin
    blocks Android's main thread and the deadline with it; see
    :mod:`hcekit_android.bridge`).
    *register_claims*: on :meth:`start`, register the card's claims per category
    as dynamic AIDs (they are usually in the static XML too; dynamic ones replace it).
    """

    #: The phone's NFC controller delivers the polling loop (API 35+), through the shim.
    polling_unsupported = ("on Android the reader's polling loop reaches the card through the "
                           "phone's NFC controller (observe mode), not through the host")

    def __init__(
        self,
        card: Card,
        *,
        context: Any = None,
        service_class: str = SERVICE_CLASS,
        deadline_ms: int | None = None,
        dispatch: Dispatch = "worker",
        register_claims: bool = True,
    ) -> None:
        if dispatch not in DISPATCH_MODES:
            raise ValueError(f"dispatch must be one of {', '.join(DISPATCH_MODES)}, got {dispatch!r}")
        super().__init__(card)
        self.nfc = AndroidNfc(context if context is not None else android_context(), service_class)
        self.deadline_ms = deadline_ms
        self.dispatch: Dispatch = dispatch
        self.register_claims = register_claims
        self.bridge = CardBridge(card, observe=self)
        self._listener: Any = None
        self._attached = False
        self._registered: set[Category] = set()
        self._polling: list[FilterRegistration] = []
        self._observing = False

    @property
    def lock(self) -> AbstractContextManager[bool]:
        """Take it around any direct use of :attr:`card` while serving."""
        return self.bridge.lock

    # -- Host ----------------------------------------------------------------------

    def device_state(self) -> DeviceState:
        return self.nfc.state()

    def register_aids(self, category: Category, aids: Sequence[str]) -> None:
        """Replace this service's *category* group with *aids* (13003 / 13006).

        This is what the WeChat-style facade calls; it waits for the app's
        answer on the dispatch thread, so inline dispatch is refused here.
        Works with NFC switched off (Android keeps registrations then too).
        """
        if self.dispatch == "inline":
            raise HceError(ErrCode.AID_REGISTRATION_FAILED,
                           "dynamic AID registration serves raw APDUs that wait for the app's "
                           "answer; that needs dispatch='worker' (inline dispatch would block "
                           "Android's main thread)")
        self._register(Category(category), aids)

    def remove_aids(self, category: Category) -> None:
        category = Category(category)
        self._registered.discard(category)
        self.nfc.remove(category)

    # -- observe mode (Android 15+) ------------------------------------------------------

    def _start_observe_mode(self) -> None:
        """Register the plugins' polling-loop filters, or say in one line why the phone cannot."""
        with self.lock:
            filters = self.card.polling.filters()
            by_default = self.card.polling.observe_by_default
            wanted = sorted({name for name, _ in filters} | set(self.card.polling.observe_requested_by()))
        if not wanted:
            return
        api = self.nfc.api_level()
        supported = self.nfc.observe_supported() if api >= MIN_OBSERVE_MODE_API else None
        downgrade = observe_mode_downgrade(api, supported, plugins=wanted)
        if downgrade is not None:
            log.warning("%s", downgrade)
            return
        for registration in filter_registrations(filters):
            self.nfc.register_polling_filter(registration)
            self._polling.append(registration)
        if by_default:
            self.nfc.set_default_observe_mode(True)
        self._observing = True

    def _stop_observe_mode(self) -> None:
        for registration in self._polling:
            self.nfc.remove_polling_filter(registration)
        self._polling.clear()
        if self._observing and self.card.polling.observe_by_default:
            self.nfc.set_default_observe_mode(False)
        self._observing = False

    def enabled(self) -> bool:
        """Observe mode as the phone runs it now (the card's view before its frames)."""
        return self._observing and self.nfc.observe_mode_enabled()

    def decided(self, decision: Decision) -> None:
        """Turn the polling loop's decision into ``setObserveModeEnabled`` (card's thread)."""
        call = observe_mode_call(decision)
        if self._observing and call is not None and not self.nfc.set_observe_mode(call):
            log.warning("Android refused setObserveModeEnabled(%s): only the preferred service "
                        "(in front, or the wallet role holder) may change observe mode", call)

    def tap_ended(self, decision: Decision) -> None:
        after = observe_mode_after_tap(self.card.polling.observe_by_default, decision)
        if self._observing and after is not None:
            self.nfc.set_observe_mode(after)

    def _drop_stale(self, category: Category) -> None:
        """Remove a *category* group this card does not claim, left by an earlier run.

        Android persists dynamic AIDs (AOSP RegisteredServicesCache writes
        dynamic_aids.xml): a process that died without stop() leaves its groups
        routing to this service, across process death and reboot.
        """
        stale = self.nfc.registered(category)
        if stale:
            log.warning("removing %d stale %s AID(s) this card no longer claims, registered "
                        "by an earlier run: %s", len(stale), category.value, ", ".join(stale))
            self.nfc.remove(category)

    def _register(self, category: Category, aids: Sequence[str]) -> None:
        self.nfc.register(category, validate_aids(aids))
        self._registered.add(category)

    def start(self) -> None:
        """Check the phone, register the claims, attach to the shim; a failure leaves nothing."""
        if self._attached:
            return
        try:
            check_ready(self.device_state())
            with self.lock:
                claims = self.card.claims()
            grouped = claims_by_category(claims)
            if Category.PAYMENT in grouped and not self.device_state().default_payment_app:
                raise NotDefaultPaymentApp(
                    self.nfc.change_default_intent(Category.PAYMENT),
                    "payment AIDs route here only when this app is the default payment "
                    "service; start the exception's intent to ask the user")
            self._start_observe_mode()
            if self.register_claims:
                prefixes = self.nfc.supports_prefixes()
                for category in (Category.OTHER, Category.PAYMENT):
                    mine = [(p, c) for p, c in claims if android_category(p, c) is category]
                    if mine:
                        self._register(category, routable_filters(mine, prefixes=prefixes))
                    else:
                        self._drop_stale(category)
        except BaseException:
            self._detach()
            raise
        bridge_class = java_bridge()
        if self.deadline_ms is not None:
            bridge_class.setDeadlineMillis(int(self.deadline_ms))
        bridge_class.setInlineDispatch(self.dispatch == "inline")
        self._attached = True
        if self.dispatch == "inline":
            self._listener = make_listener(self.bridge)
            bridge_class.setListener(self._listener)  # a command held since a cold start goes now
        else:
            self.bridge.start_serving()

    def stop(self) -> None:
        """Detach, drop the dynamic AIDs, close the card (after the event being handled)."""
        self._detach()
        with self.lock:
            self.card.close()

    def _detach(self) -> None:
        if self._listener is not None:
            java_bridge().clearListener(self._listener)
            self._listener = None
        if self._attached:
            self.bridge.stop_serving()
            self._attached = False
        for category in list(self._registered):
            self.remove_aids(category)
        self._stop_observe_mode()

    # -- Android extras ---------------------------------------------------------------

    def request_default_payment(self) -> None:
        """Ask the user to make this app the default payment service (13004's remedy)."""
        self.nfc.request_default(Category.PAYMENT)

    def prefer(self, activity: Any) -> list[Category]:
        """Call from every ``on_resume``: this service wins while the app is in front.

        Android drops the preference once the app leaves the foreground and never
        restores it, so calling this once at start is not enough. Returns the
        categories where the preference applies (none: nothing was asked).
        """
        with self.lock:
            categories = set(claims_by_category(self.card.claims())) | self._registered
        return self.nfc.prefer(activity, categories)

    def unprefer(self, activity: Any) -> None:
        """Call from the activity's ``on_pause``."""
        self.nfc.unprefer(activity)

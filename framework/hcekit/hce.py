"""The Pythonic HCE API: check the device, start with AIDs, answer raw APDUs.

This is the layer under the WeChat facade (:mod:`hcekit.wx`) for people who
want exceptions rather than callbacks. :meth:`HceService.start` registers a
*raw application* on the host's card for the AIDs it is given: after a SELECT
of one of them, every command reaches the message listener exactly as the
reader sent it (the SELECT included, as Android passes it to
``processCommandApdu``) and the bytes given to :meth:`HceService.send` go back
unchanged — no 61xx, no chaining, no CLA checks (the raw route of
:mod:`hcekit.card`). The answer may come from the listener itself or from
another thread within ``timeout`` seconds; when the deadline passes the card
answers ``timeout_response`` (``00 00``, what WeChat's client sends).

Registration composes with the card's plugins: Android's
``registerAidsForService`` replaces the service's whole group of a category,
so ``start`` registers the plugins' AIDs of that category *and* the new ones,
and ``stop`` registers the plugins' set again (or removes the group when they
have none) — also with NFC switched off, which Android allows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .aid import Category, Claim
from .context import AppContext, PluginContext
from .device import MAX_DYNAMIC_AIDS, ErrCode, HceError, check_ready
from .errors import ClaimError, HcekitError
from .events import DeactivationReason
from .hosts.base import Host
from .markers import hookimpl

__all__ = ["HceService", "HceMessage", "MESSAGE_APDU", "MESSAGE_DEACTIVATED",
           "DEFAULT_TIMEOUT", "WECHAT_TIMEOUT_RESPONSE"]

log = logging.getLogger("hcekit.hce")

#: WeChat's messageType values.
MESSAGE_APDU = 1
MESSAGE_DEACTIVATED = 2
#: WeChat's answer deadline (1500 ms) and what its client answers when it passes.
DEFAULT_TIMEOUT = 1.5
WECHAT_TIMEOUT_RESPONSE = b"\x00\x00"
DYNAMIC_APP_NAME = "hce"


@dataclass(frozen=True)
class HceMessage:
    """A command APDU (``message_type`` 1, ``data``) or field loss (2, ``reason``)."""

    message_type: int
    data: bytes | None = None
    reason: DeactivationReason | None = None


Listener = Callable[[HceMessage], None]


def validate_aid_list(aid_list: object) -> list[Claim]:
    """13003 unless *aid_list* is a non-empty list of valid AIDs (Android notation)."""
    if not isinstance(aid_list, list | tuple):
        raise HceError(ErrCode.INVALID_AID_LIST,
                       f"aid_list must be a list of hex strings, got {type(aid_list).__name__}")
    if not aid_list:
        raise HceError(ErrCode.INVALID_AID_LIST, "aid_list is empty")
    if len(aid_list) > MAX_DYNAMIC_AIDS:
        raise HceError(ErrCode.INVALID_AID_LIST,
                       f"{len(aid_list)} AIDs; Android registers at most {MAX_DYNAMIC_AIDS}")
    claims = []
    for item in aid_list:
        try:
            claims.append(Claim.parse(item, description="dynamic HCE application"))
        except ClaimError as exc:
            raise HceError(ErrCode.INVALID_AID_LIST, str(exc)) from None
    return claims


def coerce_response(data: object) -> bytes:
    """13005 unless *data* is a response APDU (bytes-like or hex text, ≥ 2 bytes)."""
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data.replace(" ", ""))
        except ValueError:
            raise HceError(ErrCode.INVALID_RESPONSE, "data is not valid hex") from None
    if not isinstance(data, bytes | bytearray | memoryview):
        raise HceError(ErrCode.INVALID_RESPONSE,
                       f"data must be bytes (an ArrayBuffer), got {type(data).__name__}")
    raw = bytes(data)
    if not raw:
        raise HceError(ErrCode.INVALID_RESPONSE, "data is empty")
    if len(raw) < 2:
        raise HceError(ErrCode.INVALID_RESPONSE, "a response APDU ends with two status bytes")
    return raw


class _Pending:
    __slots__ = ("event", "response")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.response: bytes | None = None


class _DynamicApplication:
    """The raw application :class:`HceService` registers: its claims and field events."""

    def __init__(self, service: HceService, claims: list[Claim]) -> None:
        self.service = service
        self.claims = claims

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return self.claims

    @hookimpl
    def hcekit_deselect(self, app: AppContext) -> None:
        # the reader selected a plugin's AID: Android's onDeactivated(DEACTIVATION_DESELECTED)
        self.service._notify(HceMessage(MESSAGE_DEACTIVATED, reason=DeactivationReason.DESELECTED))

    @hookimpl
    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self.service._notify(HceMessage(MESSAGE_DEACTIVATED, reason=reason))


def distinct_filters(claims: Sequence[Claim]) -> list[str]:
    """Android filter strings of *claims*, each once, in first-seen order."""
    return list(dict.fromkeys(c.filter for c in claims))


class HceService:
    """Raw-APDU HCE on one host."""

    def __init__(
        self,
        host: Host,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        timeout_response: bytes = WECHAT_TIMEOUT_RESPONSE,
    ) -> None:
        self.host = host
        self.timeout = timeout
        self.timeout_response = timeout_response
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._pending: _Pending | None = None
        self._category: Category | None = None

    @property
    def started(self) -> bool:
        return self._category is not None

    def state(self) -> None:
        """Raise :class:`HceError` (13000/13002/13001) unless HCE can run now."""
        check_ready(self.host.device_state())

    def start(self, aid_list: Sequence[str], category: Category | str = Category.OTHER) -> None:
        """Check the device, validate the AIDs (13003), the payment role (13004), register (13006).

        An AID listed twice is registered once (Android accepts duplicates and
        routes by AID, so a repeat changes nothing). A second ``start`` replaces
        the first; if it fails, HCE is left stopped.
        """
        self.state()
        claims = validate_aid_list(aid_list)
        category = Category(category)
        if category is Category.PAYMENT and not self.host.device_state().default_payment_app:
            raise HceError(ErrCode.NOT_DEFAULT_PAYMENT_APP,
                           "make this app the default in the NFC payment settings")
        unique = {c.filter: Claim(c.aid, category, c.description, c.kind) for c in claims}
        claims = list(unique.values())
        if self.started:
            self._teardown()
        try:
            with self.host.lock:
                self.host.card.register(_DynamicApplication(self, claims), name=DYNAMIC_APP_NAME,
                                        raw=self._exchange)
        except HcekitError as exc:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, str(exc)) from exc
        try:
            self._register(category, list(dict.fromkeys(self.plugin_aids(category) + list(unique))))
        except BaseException:
            with self.host.lock:
                self.host.card.unregister(DYNAMIC_APP_NAME)
            raise
        self._category = category

    def stop(self) -> None:
        """Unregister the AIDs and restore the plugins' set (no-op when not started).

        Works with NFC switched off: Android keeps accepting registration
        changes then, and a stop that failed would leave the AIDs routed. Only a
        device without NFC (13000) or HCE (13002) fails, as nothing can be started there.
        """
        state = self.host.device_state()
        try:
            check_ready(state)
        except HceError as exc:
            if exc.code is not ErrCode.NFC_DISABLED:
                raise
        if self.started:
            self._teardown()

    def plugin_aids(self, category: Category | str) -> list[str]:
        """The AIDs the card's plugins claim in *category* (the core's PPSE included)."""
        category = Category(category)
        with self.host.lock:
            claims = self.host.card.claims()
        return distinct_filters([c for name, c in claims
                                 if name != DYNAMIC_APP_NAME and c.category is category])

    def _register(self, category: Category, aids: list[str]) -> None:
        """Replace *category*'s group on the platform (13006 when refused)."""
        try:
            if aids:
                self.host.register_aids(category, aids)
            else:
                self.host.remove_aids(category)
        except HceError:
            raise
        except Exception as exc:  # a platform bug or refusal, reported as WeChat does
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, str(exc)) from exc

    def _teardown(self) -> None:
        assert self._category is not None
        category, self._category = self._category, None
        self._release(None)
        with self.host.lock:
            self.host.card.unregister(DYNAMIC_APP_NAME)
        self._register(category, self.plugin_aids(category))

    def on_message(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def off_message(self, listener: Listener | None = None) -> None:
        """Remove *listener*, or every listener when None."""
        if listener is None:
            self._listeners.clear()
        elif listener in self._listeners:
            self._listeners.remove(listener)

    def send(self, data: object) -> None:
        """Answer the command being processed (13005 for invalid data or none waiting)."""
        raw = coerce_response(data)
        with self._lock:
            pending = self._pending
            if pending is None or pending.event.is_set():
                raise HceError(ErrCode.INVALID_RESPONSE, "no command is waiting for a response")
            pending.response = raw
            pending.event.set()

    # -- card side (called by the dynamic application) -------------------------------

    def _release(self, response: bytes | None) -> None:
        with self._lock:
            if self._pending is not None and not self._pending.event.is_set():
                self._pending.response = response
                self._pending.event.set()

    def _notify(self, message: HceMessage) -> None:
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:
                log.exception("an HCE message listener failed")

    def _exchange(self, command: bytes) -> bytes:
        """The raw route: the command as the reader sent it → the listener's bytes, unchanged."""
        pending = _Pending()
        with self._lock:
            self._pending = pending
        self._notify(HceMessage(MESSAGE_APDU, data=command))
        answered = pending.event.wait(self.timeout)
        with self._lock:
            self._pending = None
        if not answered or pending.response is None:
            log.warning("no answer within %.0f ms; answering %s", self.timeout * 1000,
                        self.timeout_response.hex().upper())
            return self.timeout_response
        return pending.response

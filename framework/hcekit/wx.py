"""A faithful facade of WeChat's mini-program HCE API.

Same names (``getHCEState``, ``startHCE``, ``stopHCE``, ``onHCEMessage``,
``offHCEMessage``, ``sendHCEMessage``), same argument objects (a dict, or
keyword arguments, optionally with ``success``/``fail``/``complete``
callbacks), same result (``errCode``/``errMsg``) and errCodes, so raw-APDU
mini-program code ports line by line. snake_case aliases exist for each.

    from hcekit import wx
    wx.startHCE({"aid_list": ["F222222222"], "success": print})
    wx.onHCEMessage(lambda res: wx.sendHCEMessage({"data": b"\\x90\\x00"})
                    if res["messageType"] == 1 else None)

Module-level functions use a default :class:`WxHce` on an in-process loopback
host; :func:`use_host` binds them to another host (vpcd, Android).

Details WeChat does not pin down, as implemented here: ``startHCE`` checks
the device (13000, 13002, 13001), then the AID list (13003), then the payment
role (13004; WeChat registers its HCE service for the ``payment`` category, so
the check applies unless ``category: "other"`` is passed — an hcekit
extension), then registers (13006) the plugins' AIDs of that category with
the new ones (Android replaces a category's whole group). An AID listed twice
is accepted and registered once. ``stopHCE`` restores the plugins' group and
answers 0 also with NFC switched off. ``sendHCEMessage`` with no command
waiting fails with 13005. The answer deadline is 1500 ms; when it passes the
card answers ``00 00`` as WeChat's client does.

Commands reach ``onHCEMessage`` exactly as the reader sent them and the bytes
of ``sendHCEMessage`` go out unchanged, on every host (the card core's raw
route, as Android's NFC service behaves); ``docs/wechat.md`` has the details
and the AOSP behaviour each one rests on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from .card import Card
from .device import ERR_MESSAGES, ErrCode, HceError
from .hce import HceMessage, HceService
from .hosts.base import Host
from .hosts.loopback import LoopbackHost

__all__ = [
    "WxResult", "WxHce", "use_host", "default",
    "getHCEState", "startHCE", "stopHCE", "onHCEMessage", "offHCEMessage", "sendHCEMessage",
    "get_hce_state", "start_hce", "stop_hce", "on_hce_message", "off_hce_message",
    "send_hce_message",
]

log = logging.getLogger("hcekit.wx")

Callback = Callable[["WxResult"], Any]
MessageCallback = Callable[[dict[str, Any]], Any]


class WxResult(dict[str, Any]):
    """``{"errCode": 0, "errMsg": "startHCE:ok"}``, also as ``.err_code``/``.err_msg``."""

    @property
    def err_code(self) -> int:
        return int(self["errCode"])

    @property
    def err_msg(self) -> str:
        return str(self["errMsg"])

    @property
    def ok(self) -> bool:
        return self.err_code == ErrCode.OK


def _merge(obj: Mapping[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    merged = dict(obj or {})
    merged.update(kwargs)
    return merged


class WxHce:
    """The WeChat API bound to one host."""

    def __init__(self, host: Host, **service_options: Any) -> None:
        self.service = HceService(host, **service_options)
        self._wrapped: dict[MessageCallback, Callable[[HceMessage], None]] = {}

    def _finish(self, api: str, args: Mapping[str, Any], error: HceError | None) -> WxResult:
        if error is None:
            result = WxResult(errCode=int(ErrCode.OK), errMsg=f"{api}:ok")
            callback = args.get("success")
        else:
            detail = f" ({error.detail})" if error.detail else ""
            result = WxResult(errCode=int(error.code),
                              errMsg=f"{api}:fail {ERR_MESSAGES[error.code]}{detail}")
            callback = args.get("fail")
        for fn in (callback, args.get("complete")):
            if fn is None:
                continue
            try:
                fn(result)
            except Exception:
                log.exception("%s: a callback raised (ignored, as an async JS callback)", api)
        return result

    def _call(self, api: str, args: Mapping[str, Any], action: Callable[[], None]) -> WxResult:
        try:
            action()
        except HceError as exc:
            return self._finish(api, args, exc)
        return self._finish(api, args, None)

    def getHCEState(self, obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
        return self._call("getHCEState", _merge(obj, kwargs), self.service.state)

    def startHCE(self, obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
        args = _merge(obj, kwargs)

        def start() -> None:
            if "aid_list" not in args:
                self.service.state()
                raise HceError(ErrCode.INVALID_AID_LIST, "aid_list is missing")
            self.service.start(args["aid_list"], args.get("category", "payment"))

        return self._call("startHCE", args, start)

    def stopHCE(self, obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
        return self._call("stopHCE", _merge(obj, kwargs), self.service.stop)

    def onHCEMessage(self, callback: MessageCallback) -> None:
        """*callback* gets ``{"messageType": 1, "data": bytes}`` or ``{"messageType": 2, "reason": n}``."""
        def deliver(message: HceMessage) -> None:
            if message.message_type == 1:
                callback({"messageType": 1, "data": message.data})
            else:
                callback({"messageType": 2, "reason": int(message.reason or 0)})

        self._wrapped[callback] = deliver
        self.service.on_message(deliver)

    def offHCEMessage(self, callback: MessageCallback | None = None) -> None:
        if callback is None:
            self._wrapped.clear()
            self.service.off_message()
        elif callback in self._wrapped:
            self.service.off_message(self._wrapped.pop(callback))

    def sendHCEMessage(self, obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
        args = _merge(obj, kwargs)

        def send() -> None:
            self.service.state()
            self.service.send(args.get("data"))

        return self._call("sendHCEMessage", args, send)

    # snake_case aliases
    get_hce_state = getHCEState
    start_hce = startHCE
    stop_hce = stopHCE
    on_hce_message = onHCEMessage
    off_hce_message = offHCEMessage
    send_hce_message = sendHCEMessage


_default: WxHce | None = None


def default() -> WxHce:
    """The facade the module-level functions use (a loopback host unless :func:`use_host`)."""
    global _default
    if _default is None:
        _default = WxHce(LoopbackHost(Card()))
    return _default


def use_host(host: Host, **service_options: Any) -> WxHce:
    """Bind the module-level functions to *host*; returns the new facade."""
    global _default
    _default = WxHce(host, **service_options)
    return _default


def getHCEState(obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
    """The device's NFC/HCE state, as WeChat reports it (``errCode`` 0 or 1300x)."""
    return default().getHCEState(obj, **kwargs)


def startHCE(obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
    """Register ``aid_list`` and start answering (errCodes as WeChat's)."""
    return default().startHCE(obj, **kwargs)


def stopHCE(obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
    """Stop answering and restore the plugins' AID group."""
    return default().stopHCE(obj, **kwargs)


def onHCEMessage(callback: MessageCallback) -> None:
    """Call *callback* with each command (messageType 1) and field loss (2)."""
    default().onHCEMessage(callback)


def offHCEMessage(callback: MessageCallback | None = None) -> None:
    """Stop calling *callback* (all callbacks when None)."""
    default().offHCEMessage(callback)


def sendHCEMessage(obj: Mapping[str, Any] | None = None, **kwargs: Any) -> WxResult:
    """Answer the waiting command with ``data`` (13005 when none waits)."""
    return default().sendHCEMessage(obj, **kwargs)


get_hce_state = getHCEState
start_hce = startHCE
stop_hce = stopHCE
on_hce_message = onHCEMessage
off_hce_message = offHCEMessage
send_hce_message = sendHCEMessage

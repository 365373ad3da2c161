"""Simulated or real device capabilities, and the WeChat error codes they map to.

Every host reports a :class:`DeviceState`; :func:`check_ready` turns it into
the first applicable WeChat errCode in the order WeChat's Android client checks
them: NFC hardware (13000), the HCE feature (13002, checked before the on/off
switch), the NFC switch (13001).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .errors import HcekitError

__all__ = ["ErrCode", "DeviceState", "HceError", "check_ready", "MAX_DYNAMIC_AIDS"]

#: ``CardEmulation.registerAidsForService`` accepts at most this many AIDs.
MAX_DYNAMIC_AIDS = 256


class ErrCode(IntEnum):
    """WeChat mini-program HCE errCodes (and 0 for success)."""

    OK = 0
    NFC_UNAVAILABLE = 13000
    NFC_DISABLED = 13001
    HCE_UNSUPPORTED = 13002
    INVALID_AID_LIST = 13003
    NOT_DEFAULT_PAYMENT_APP = 13004
    INVALID_RESPONSE = 13005
    AID_REGISTRATION_FAILED = 13006


ERR_MESSAGES: dict[ErrCode, str] = {
    ErrCode.OK: "ok",
    ErrCode.NFC_UNAVAILABLE: "the device has no NFC",
    ErrCode.NFC_DISABLED: "NFC is switched off",
    ErrCode.HCE_UNSUPPORTED: "the device does not support host card emulation",
    ErrCode.INVALID_AID_LIST: "the AID list is invalid",
    ErrCode.NOT_DEFAULT_PAYMENT_APP: "this app is not the default NFC payment app",
    ErrCode.INVALID_RESPONSE: "the response data is invalid",
    ErrCode.AID_REGISTRATION_FAILED: "AID registration failed",
}


class HceError(HcekitError):
    """A failed HCE call carrying its WeChat errCode (the Pythonic API raises this)."""

    def __init__(self, code: ErrCode, detail: str = "") -> None:
        self.code = ErrCode(code)
        self.detail = detail
        text = ERR_MESSAGES[self.code]
        super().__init__(f"{int(self.code)} {text}" + (f": {detail}" if detail else ""))


@dataclass
class DeviceState:
    """What the device can do right now. The loopback host lets tests set every field."""

    nfc_present: bool = True
    nfc_enabled: bool = True
    hce_supported: bool = True
    #: Is this app the default service for the "payment" category?
    default_payment_app: bool = True
    #: ``CardEmulation.supportsAidPrefixRegistration()``: may ``*``/``#`` AIDs be
    #: registered? (Android ignores them silently on controllers without support.)
    aid_prefix_registration: bool = True


def check_ready(state: DeviceState) -> None:
    """Raise :class:`HceError` with the first failing check, in WeChat's order."""
    if not state.nfc_present:
        raise HceError(ErrCode.NFC_UNAVAILABLE)
    if not state.hce_supported:
        raise HceError(ErrCode.HCE_UNSUPPORTED)
    if not state.nfc_enabled:
        raise HceError(ErrCode.NFC_DISABLED)

"""Android's NFC APIs through pyjnius, mapped onto hcekit's device model and WeChat codes.

Only this module names Android classes. The checks follow WeChat's Android
client: no NFC hardware → 13000; ``FEATURE_NFC_HOST_CARD_EMULATION`` missing →
13002 (checked before the switch); adapter null or switched off → 13001.
:class:`NotDefaultPaymentApp` (13004) carries the ``ACTION_CHANGE_DEFAULT``
intent that asks the user. Registration needs the hardware and the feature
but not the switch, as on Android.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hcekit.aid import Category
from hcekit.device import DeviceState, ErrCode, HceError, check_ready
from hcekit.hosts.base import check_prefix_support

from .observe import FilterRegistration

__all__ = ["AndroidNfc", "NotDefaultPaymentApp", "android_context"]

log = logging.getLogger("hcekit.android")

#: From Android 15 the wallet role holder takes the default payment service's place.
WALLET_ROLE_API = 35
ROLE_WALLET = "android.app.role.WALLET"


class NotDefaultPaymentApp(HceError):
    """13004, with the intent that asks the user to make this service the default."""

    def __init__(self, intent: Any, detail: str = "") -> None:
        super().__init__(ErrCode.NOT_DEFAULT_PAYMENT_APP, detail)
        #: ``android.content.Intent`` (``CardEmulation.ACTION_CHANGE_DEFAULT``).
        self.intent = intent


def _registered_or_13006(call: Callable[[], Any], what: str, refused: str) -> None:
    """Run one CardEmulation registration: 13006 if it raised or returned false."""
    try:
        accepted = call()
    except Exception as exc:
        raise HceError(ErrCode.AID_REGISTRATION_FAILED, f"{what} raised {exc}") from exc
    if not accepted:
        raise HceError(ErrCode.AID_REGISTRATION_FAILED, refused)


def android_context() -> Any:
    """The running p4a app's Context: its activity, else its service."""
    from jnius import autoclass

    for class_name, field in (("org.kivy.android.PythonActivity", "mActivity"),
                              ("org.kivy.android.PythonService", "mService")):
        try:
            value = getattr(autoclass(class_name), field)
        except Exception:
            continue
        if value is not None:
            return value
    raise HceError(ErrCode.NFC_UNAVAILABLE,
                   "no Android context: pass context= (not running inside a p4a app?)")


class AndroidNfc:
    """One HCE service component and the phone's NFC state, queried fresh on every call."""

    def __init__(self, context: Any, service_class: str) -> None:
        from jnius import autoclass

        self._context = context
        self._ComponentName = autoclass("android.content.ComponentName")
        self._PackageManager = autoclass("android.content.pm.PackageManager")
        self._NfcAdapter = autoclass("android.nfc.NfcAdapter")
        self._CardEmulation = autoclass("android.nfc.cardemulation.CardEmulation")
        self._Intent = autoclass("android.content.Intent")
        self._ArrayList = autoclass("java.util.ArrayList")
        self.component = self._ComponentName(context.getPackageName(), service_class)

    # -- device state ---------------------------------------------------------------

    def _adapter(self) -> Any:
        return self._NfcAdapter.getDefaultAdapter(self._context)

    def state(self) -> DeviceState:
        packages = self._context.getPackageManager()
        nfc = bool(packages.hasSystemFeature(self._PackageManager.FEATURE_NFC))
        hce = bool(packages.hasSystemFeature(self._PackageManager.FEATURE_NFC_HOST_CARD_EMULATION))
        adapter = self._adapter() if nfc else None
        enabled = adapter is not None and bool(adapter.isEnabled())
        default = prefixes = False
        if adapter is not None and hce:
            emulation = self._emulation(adapter)
            default = bool(emulation.isDefaultServiceForCategory(
                self.component, Category.PAYMENT.value))
            prefixes = bool(emulation.supportsAidPrefixRegistration())
        return DeviceState(nfc_present=nfc, nfc_enabled=enabled, hce_supported=hce,
                           default_payment_app=default, aid_prefix_registration=prefixes)

    def card_emulation(self) -> Any:
        """``CardEmulation`` for this phone, or the WeChat code that says why not."""
        check_ready(self.state())
        return self._emulation(self._adapter())

    def _emulation(self, adapter: Any) -> Any:
        return self._CardEmulation.getInstance(adapter)

    def api_level(self) -> int:
        """``Build.VERSION.SDK_INT`` of the phone."""
        from jnius import autoclass

        return int(autoclass("android.os.Build$VERSION").SDK_INT)

    def change_default_intent(self, category: Category = Category.PAYMENT) -> Any:
        """The intent that asks the user to make this app the payment default (start it).

        Up to Android 14: ``CardEmulation.ACTION_CHANGE_DEFAULT`` for this
        service. From Android 15 (API 35) the wallet role decides where payment
        (and contested "other") AIDs go, so for payment it is
        ``RoleManager.createRequestRoleIntent(ROLE_WALLET)``.
        """
        from jnius import autoclass, cast

        if Category(category) is Category.PAYMENT and self.api_level() >= WALLET_ROLE_API:
            roles = cast("android.app.role.RoleManager", self._context.getSystemService("role"))
            return roles.createRequestRoleIntent(ROLE_WALLET)

        # The extras go in through a Bundle: its putString/putParcelable have one overload
        # each, where pyjnius may pick Intent.putExtra(String, CharSequence) for a str,
        # which the framework's getStringExtra then reads as null (seen on the real classes).
        extras = autoclass("android.os.Bundle")()
        extras.putString(self._CardEmulation.EXTRA_CATEGORY, Category(category).value)
        extras.putParcelable(self._CardEmulation.EXTRA_SERVICE_COMPONENT, self.component)
        intent = self._Intent(self._CardEmulation.ACTION_CHANGE_DEFAULT)
        intent.putExtras(extras)
        return intent

    def request_default(self, category: Category = Category.PAYMENT) -> None:
        """Show Android's "make this the default payment app" dialog."""
        intent = self.change_default_intent(category)
        intent.addFlags(self._Intent.FLAG_ACTIVITY_NEW_TASK)
        self._context.startActivity(intent)

    # -- AID registration -----------------------------------------------------------

    def registration_emulation(self) -> Any:
        """``CardEmulation`` for registering: needs NFC hardware (13000) and HCE (13002), not the switch.

        Android keeps AID registrations while NFC is switched off, so an app can
        register or restore its AIDs then too.
        """
        state = self.state()
        if not state.nfc_present:
            raise HceError(ErrCode.NFC_UNAVAILABLE)
        if not state.hce_supported:
            raise HceError(ErrCode.HCE_UNSUPPORTED)
        return self._emulation(self._adapter())

    def supports_prefixes(self) -> bool:
        """``CardEmulation.supportsAidPrefixRegistration()``."""
        return bool(self.registration_emulation().supportsAidPrefixRegistration())

    def register(self, category: Category, aids: Sequence[str]) -> None:
        """``registerAidsForService`` (replaces *category*'s group); *aids* are validated. 13006.

        ``*``/``#`` AIDs are refused unless the controller supports prefix
        registration: Android would accept them and then ignore them silently.
        """
        emulation = self.registration_emulation()
        category = Category(category)
        if not emulation.supportsAidPrefixRegistration():
            check_prefix_support(aids)  # 13006: Android would accept them and never route them
        java_list = self._ArrayList()
        for aid in aids:
            java_list.add(aid)
        _registered_or_13006(
            lambda: emulation.registerAidsForService(self.component, category.value, java_list),
            "registerAidsForService",
            f"registerAidsForService refused the {category.value} AIDs (is "
            f"{self.component.flattenToString()} declared in the manifest?)")

    def remove(self, category: Category) -> bool:
        """``removeAidsForService``; False if Android had nothing or refused."""
        try:
            return bool(self.registration_emulation().removeAidsForService(
                self.component, Category(category).value))
        except Exception:
            log.exception("removeAidsForService(%s) failed", Category(category).value)
            return False

    def registered(self, category: Category) -> list[str]:
        """``getAidsForService``: the dynamic AIDs Android holds for *category*."""
        aids = self.registration_emulation().getAidsForService(
            self.component, Category(category).value)
        return [] if aids is None else [str(a) for a in aids.toArray()]

    # -- observe mode (Android 15+) --------------------------------------------------------

    def observe_supported(self) -> bool:
        """``NfcAdapter.isObserveModeSupported()`` (API 35+)."""
        adapter = self._adapter()
        return adapter is not None and bool(adapter.isObserveModeSupported())

    def observe_mode_enabled(self) -> bool:
        """``NfcAdapter.isObserveModeEnabled()`` (API 35+)."""
        adapter = self._adapter()
        return adapter is not None and bool(adapter.isObserveModeEnabled())

    def set_observe_mode(self, enabled: bool) -> bool:
        """``NfcAdapter.setObserveModeEnabled``; False where Android refused (not the preferred service)."""
        adapter = self._adapter()
        return adapter is not None and bool(adapter.setObserveModeEnabled(bool(enabled)))

    def register_polling_filter(self, registration: FilterRegistration) -> None:
        """``registerPollingLoop(Pattern)FilterForService``; 13006 when Android refuses."""
        call = getattr(self.registration_emulation(), registration.method)
        _registered_or_13006(
            lambda: call(self.component, registration.value, registration.auto_transact),
            f"{registration.method}({registration.value})",
            f"{registration.method} refused {registration.value} (plugin {registration.plugin})")

    def remove_polling_filter(self, registration: FilterRegistration) -> None:
        method = registration.method.replace("register", "remove", 1)
        try:
            getattr(self.registration_emulation(), method)(self.component, registration.value)
        except Exception:
            log.exception("%s(%s) failed", method, registration.value)

    def set_default_observe_mode(self, enabled: bool) -> None:
        """``setShouldDefaultToObserveModeForService`` for this service."""
        self.registration_emulation().setShouldDefaultToObserveModeForService(
            self.component, bool(enabled))

    # -- foreground preference ----------------------------------------------------------

    def prefer(self, activity: Any, categories: Iterable[Category]) -> list[Category]:
        """``setPreferredService`` while *activity* is resumed, if any of *categories* allows it.

        Returns the categories in which this service now wins over the default
        (Android applies a foreground preference only where the user allows it:
        always for ``other``; for ``payment`` on Android 14 only with "use the app in
        front", from Android 15, where the wallet role exists, always).
        """
        emulation = self.card_emulation()
        wanted = {Category(c) for c in categories}
        allowed = [c for c in Category
                   if c in wanted and emulation.categoryAllowsForegroundPreference(c.value)]
        if not allowed:
            return []
        if not emulation.setPreferredService(activity, self.component):
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, "setPreferredService refused")
        return allowed

    def unprefer(self, activity: Any) -> None:
        """``unsetPreferredService`` (call from the activity's onPause)."""
        try:
            self.card_emulation().unsetPreferredService(activity)
        except Exception:
            log.exception("unsetPreferredService failed")

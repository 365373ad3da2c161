"""hcekit: NFC host card emulation with card personalities as pluggy plugins.

The names most plugin authors need are re-exported here; the plugin contract
is :mod:`hcekit.hookspecs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

if TYPE_CHECKING:
    from .aid import AidKind, Category, Claim
    from .apdu import CommandApdu, ResponseApdu
    from .card import Card, CardConfig
    from .context import AppContext, PluginContext
    from .device import DeviceState, ErrCode, HceError
    from .errors import ApduFormatError, ClaimConflictError, ClaimError, HcekitError, IsoError
    from .events import DeactivationReason
    from .hookspecs import hookimpl
    from .sw import SW

__version__ = "0.1.0"

__all__ = [
    "SW",
    "AidKind",
    "ApduFormatError",
    "AppContext",
    "Card",
    "CardConfig",
    "Category",
    "Claim",
    "ClaimConflictError",
    "ClaimError",
    "CommandApdu",
    "DeactivationReason",
    "DeviceState",
    "ErrCode",
    "HceError",
    "HcekitError",
    "IsoError",
    "PluginContext",
    "ResponseApdu",
    "__version__",
    "hookimpl",
]

__getattr__ = lazy_exports(__name__, {
    "AidKind": ".aid",
    "Category": ".aid",
    "Claim": ".aid",
    "CommandApdu": ".apdu",
    "ResponseApdu": ".apdu",
    "Card": ".card",
    "CardConfig": ".card",
    "AppContext": ".context",
    "PluginContext": ".context",
    "DeviceState": ".device",
    "ErrCode": ".device",
    "HceError": ".device",
    "ApduFormatError": ".errors",
    "ClaimConflictError": ".errors",
    "ClaimError": ".errors",
    "HcekitError": ".errors",
    "IsoError": ".errors",
    "DeactivationReason": ".events",
    "hookimpl": ".hookspecs",
    "SW": ".sw",
})

"""hcekit on Android: the pyjnius bridge to the Java HCE shim, device checks, manifest files.

Importing this package does not start a JVM; :class:`AndroidHost` does (through
pyjnius) when it is created. On a desktop, start the JVM with
:func:`hcekit_android.jvm.start_desktop_jvm` first.
"""

from .bridge import SERVICE_CLASS, CardBridge
from .host import AndroidHost, validate_aids
from .platform import AndroidNfc, NotDefaultPaymentApp
from .service import service_main, start_python_service

__all__ = [
    "SERVICE_CLASS",
    "AndroidHost",
    "AndroidNfc",
    "CardBridge",
    "NotDefaultPaymentApp",
    "service_main",
    "start_python_service",
    "validate_aids",
]

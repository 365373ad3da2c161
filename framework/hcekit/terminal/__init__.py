"""The reader side: terminal scripts over any transport (loopback now, PC/SC too)."""

from .loopback import LoopbackTransport
from .script import ScriptContext, TerminalScript
from .terminal import Terminal, TerminalError
from .transport import Transport

__all__ = ["LoopbackTransport", "ScriptContext", "Terminal", "TerminalError",
           "TerminalScript", "Transport"]

"""The reader side: terminal scripts over any transport (loopback now, PC/SC too)."""

from .loopback import LoopbackTransport
from .script import ScriptContext, ScriptOptionError, TerminalScript, check_options, rehearse
from .terminal import Terminal, TerminalError
from .transport import Transport

__all__ = ["LoopbackTransport", "ScriptContext", "ScriptOptionError", "Terminal", "TerminalError",
           "TerminalScript", "Transport", "check_options", "rehearse"]

"""Declared plugin options: what a plugin accepts, checked before it starts.

A plugin declares its options in ``hcekit_addoption`` (as pytest plugins do
in ``pytest_addoption``); the card checks what it is given against the
declarations — unknown plugin, unknown key, ill-typed value or a value outside
``choices`` is an :class:`OptionError` that names the closest match — and hands
the plugin converted values with the defaults filled in (``plugin.options``).
Nothing given is ever silently ignored.

Values arrive as text from the command line (``--option ndef.url=…``) and are
converted with the declared ``type``: ``str``, ``int`` (decimal or ``0x…``),
``float``, ``bool`` (1/0, true/false, yes/no, on/off), ``bytes`` (hex, spaces
and colons allowed), :func:`json_value` (JSON text) or any callable
``str -> value`` that raises ``ValueError`` for bad text. From Python (``Card(options=…)``) a value that is
already of the declared type is taken as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PluginLoadError

__all__ = ["Option", "OptionError", "OptionGroup", "OptionType", "closest", "json_value"]

#: ``str``, ``int``, ``float``, ``bool``, ``bytes`` or a parser ``str -> value``.
OptionType = type[Any] | Callable[[str], Any]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class OptionError(PluginLoadError, ValueError):
    """An option the plugins did not declare, a value of the wrong type, or a value the plugin
    refused in ``hcekit_startup`` (the card won't start; ``hcekit`` exits 2)."""


def closest(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest known word, else ``""``."""
    import difflib  # only when an option is wrong: not on every start

    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _parse_bytes(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise ValueError("expected hex bytes") from None


def _parse_int(text: str) -> int:
    word = text.strip()
    try:
        return int(word, 16) if word.lower().startswith("0x") else int(word, 10)
    except ValueError:
        raise ValueError("expected a whole number (decimal, or hex as 0x…)") from None


def json_value(text: str) -> Any:
    """Option type for structured values (lists, tables) given as JSON text."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


_PARSERS: dict[object, Callable[[str], Any]] = {
    bool: _parse_bool, bytes: _parse_bytes, int: _parse_int, float: float, str: str,
}
_TYPE_NAMES: dict[object, str] = {
    bool: "boolean", bytes: "hex bytes", int: "integer", float: "number", str: "text",
    json_value: "JSON",
}


@dataclass(frozen=True)
class Option:
    """One declared option of one plugin."""

    plugin: str
    name: str
    type: OptionType = str
    default: Any = None
    help: str = ""
    choices: Sequence[Any] | None = None
    #: Shown as ``***`` in listings (keys, PINs): never print the default.
    secret: bool = False

    @property
    def type_name(self) -> str:
        known = _TYPE_NAMES.get(self.type)
        return known if known is not None else str(getattr(self.type, "__name__", "value"))

    def convert(self, value: object) -> Any:
        """The value as the plugin receives it; :class:`OptionError` if it does not fit."""
        where = f"option {self.plugin}.{self.name}"
        if isinstance(value, str):
            parse = _PARSERS.get(self.type, self.type)
            try:
                converted = parse(value)
            except (ValueError, TypeError) as exc:
                shown = "***" if self.secret else repr(value)
                raise OptionError(f"{where}={shown}: not a valid {self.type_name}: {exc}") from None
        elif isinstance(self.type, type) and not isinstance(value, self.type):
            raise OptionError(f"{where}: expected {self.type_name}, got {type(value).__name__}")
        else:
            converted = value
        if self.choices is not None and converted not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise OptionError(f"{where}={converted!r}: must be one of {allowed}"
                              f"{closest(str(converted), [str(c) for c in self.choices])}")
        return converted

    def signature(self) -> str:
        """``plugin.name (type, default X, one of …)`` for listings."""
        details = [self.type_name]
        if self.default is not None:
            details.append(f"default {'***' if self.secret else self.default!r}")
        if self.choices is not None:
            details.append("one of " + "/".join(str(c) for c in self.choices))
        return f"{self.plugin}.{self.name} ({', '.join(details)})"

    def describe(self, indent: str = "  ") -> str:
        """Signature, then the help on the next line (``hcekit plugins``, ``--help``)."""
        pad = " " * (len(indent) + 4)
        return f"{indent}{self.signature()}" + (f"\n{pad}{self.help}" if self.help else "")


class OptionGroup:
    """What ``hcekit_addoption`` gets: the declarations of one plugin."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self._options: dict[str, Option] = {}

    def add(self, name: str, *, type: OptionType = str, default: Any = None,
            help: str = "", choices: Sequence[Any] | None = None,
            secret: bool = False) -> None:
        """Declare option *name* (``--option PLUGIN.NAME=VALUE``)."""
        if not name.isidentifier():
            raise OptionError(f"plugin {self.plugin!r} declares option {name!r}: "
                              "names are identifiers (letters, digits, _)")
        if name in self._options:
            raise OptionError(f"plugin {self.plugin!r} declares option {name!r} twice")
        option = Option(self.plugin, name, type, default, help,
                        tuple(choices) if choices is not None else None, secret)
        if default is not None and choices is not None and default not in option.choices:  # type: ignore[operator]
            raise OptionError(f"plugin {self.plugin!r}: default {default!r} of option {name!r} "
                              "is not one of its choices")
        self._options[name] = option

    def __iter__(self) -> Any:
        return iter(self._options.values())

    def __len__(self) -> int:
        return len(self._options)

    def __contains__(self, name: object) -> bool:
        return name in self._options

    def get(self, name: str) -> Option | None:
        return self._options.get(name)

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check *given* and return every declared option's value (defaults filled in).

        An option with no default that was not given is left out, so
        ``"key" in plugin.options`` tells whether it was set.
        """
        for key in given:
            if key not in self._options:
                known = ", ".join(sorted(self._options)) or "none"
                raise OptionError(f"plugin {self.plugin!r} has no option {key!r}"
                                  f"{closest(key, self._options)} (it declares: {known})")
        values = {name: opt.default for name, opt in self._options.items()
                  if opt.default is not None}
        for key, value in given.items():
            values[key] = self._options[key].convert(value)
        return values


"""The router: runs the routing table (:mod:`hcekit.routing`) on every command.

:class:`Router` holds the selection state, resolves SELECT by DF name (whole
and partial names, first/next occurrence), routes raw applications' bytes,
and calls the selected application's hook functions directly — secure
messaging unwrapped before ``hcekit_process`` and wrapped after it. What it
does for a command is the effect the table gives for the current state and
the command's kind; there is one method per effect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .aid import AidKind, Claim, select_order
from .apdu import (
    CLA_CHAINING,
    CLA_INVALID,
    CLA_PROPRIETARY,
    INS_GET_RESPONSE,
    INS_SELECT,
    P1_SELECT_BY_DF_NAME,
    CommandApdu,
    ResponseApdu,
)
from .assembler import ResponseAssembler
from .calls import HookFn, call_app, call_quietly
from .context import AppContext
from .errors import IsoError
from .events import DeactivationReason
from .logs import get_logger
from .registry import PluginRegistry, Registered
from .routing import (
    CLA_NOT_BASIC,
    RAW_ROWS,
    ROWS,
    Effect,
    Kind,
    RawKind,
    Selection,
    compile_rows,
    routing_select_aid,
)
from .sw import SW, sw_bytes

__all__ = ["Router", "Selected"]

log = get_logger("hcekit.card")

P2_OCCURRENCE_MASK = 0x03
P2_FIRST_OCCURRENCE = 0x00
P2_NEXT_OCCURRENCE = 0x02
_SW_UNKNOWN = sw_bytes(SW.UNKNOWN)
# The hot path reads plain ints from module globals.
_CLA_PROPRIETARY, _CLA_INVALID, _CLA_NOT_BASIC, _CLA_CHAINING = (
    CLA_PROPRIETARY, CLA_INVALID, CLA_NOT_BASIC, CLA_CHAINING)
_INS_GET_RESPONSE, _INS_SELECT, _P1_BY_DF_NAME = INS_GET_RESPONSE, INS_SELECT, P1_SELECT_BY_DF_NAME
_K_CLA_FF, _K_PROPRIETARY, _K_CHANNEL = int(Kind.CLA_FF), int(Kind.PROPRIETARY), int(Kind.CHANNEL)
_K_GET_RESPONSE, _K_SELECT, _K_OTHER = int(Kind.GET_RESPONSE), int(Kind.SELECT), int(Kind.OTHER)
_CHAINED = Kind.OTHER_CHAINED - Kind.OTHER

Handler = Callable[[CommandApdu], bytes]
RawMatch = tuple[Registered, Claim] | None
RawHandler = Callable[[bytes, bytes | None, RawMatch], bytes | None]


def _is_success(sw: int) -> bool:
    """9000 and warnings (61xx, 62xx, 63xx): the command was executed."""
    return (sw >> 8) in (0x90, 0x61, 0x62, 0x63)


class Selected:
    """The selected application: its plugin, its :class:`AppContext`, its process hook."""

    __slots__ = ("app", "name", "plugin", "process")

    def __init__(self, plugin: Registered, app: AppContext) -> None:
        self.plugin = plugin
        self.name = plugin.name
        self.app = app
        self.process: HookFn | None = plugin.process


class Router:
    """Selection state and routing for one card; the card's registry and assembler are shared."""

    def __init__(self, registry: PluginRegistry, assembler: ResponseAssembler, *,
                 extended_length: bool) -> None:
        self._registry = registry
        self._assembler = assembler
        self.extended_length = extended_length
        self.selected: Selected | None = None
        self._selection = Selection.NONE
        bind = self._handler
        self._iso: tuple[tuple[tuple[Handler, ...], ...], ...] = tuple(
            tuple(tuple(bind(e) for e in kinds) for kinds in states)
            for states in compile_rows(ROWS, Kind))
        self._raw: tuple[tuple[tuple[RawHandler, ...], ...], ...] = tuple(
            tuple(tuple(bind(e) for e in kinds) for kinds in states)
            for states in compile_rows(RAW_ROWS, RawKind))

    def _handler(self, effect: Effect) -> Any:
        return getattr(self, "_" + effect.name.lower())

    def _select_app(self, selected: Selected | None) -> None:
        self.selected = selected
        self._selection = (Selection.NONE if selected is None else
                           Selection.RAW if selected.plugin.raw is not None else Selection.APP)

    # -- entry points ------------------------------------------------------------------

    def exchange_raw_first(self, raw: bytes) -> bytes:
        """:meth:`exchange` while a raw application is registered: :data:`RAW_ROWS` first."""
        answer = self._raw_route(raw)
        return answer if answer is not None else self.exchange(raw)

    def exchange(self, raw: bytes) -> bytes:
        """One command's bytes → the response's bytes; every failure is a status word."""
        try:
            command = CommandApdu.parse(raw)
            if command.extended and not self.extended_length:
                raise IsoError(SW.WRONG_LENGTH, "extended-length APDUs are not supported here")
            return self.route(command)
        except IsoError as exc:
            return self._answer_error(exc)
        except KeyboardInterrupt:
            raise
        except BaseException:  # SystemExit, GeneratorExit, a plugin's own BaseException …
            log.exception("internal error while handling %s", bytes(raw[:4]).hex().upper())
            return _SW_UNKNOWN

    def route(self, command: CommandApdu) -> bytes:
        """The effect :data:`~hcekit.routing.ROWS` gives for the state and the command's kind."""
        # routing.kind_of, inlined: this runs for every command
        cla = command.cla
        kind: int
        if cla & _CLA_PROPRIETARY:
            kind = _K_CLA_FF if cla == _CLA_INVALID else _K_PROPRIETARY
        elif cla & _CLA_NOT_BASIC:
            kind = _K_CHANNEL
        else:
            ins = command.ins
            kind = (_K_GET_RESPONSE if ins == _INS_GET_RESPONSE else
                    _K_SELECT if ins == _INS_SELECT and command.p1 == _P1_BY_DF_NAME else
                    _K_OTHER)
            if cla & _CLA_CHAINING:
                kind += _CHAINED
        return self._iso[self._assembler.transfer][self._selection][kind](command)

    def deactivate(self, reason: DeactivationReason) -> Selected | None:
        """Clear the selection and any transfer; the application gets ``hcekit_deactivated``."""
        sel = self.selected
        self._select_app(None)
        self._assembler.reset()
        if sel is not None:
            call_quietly(sel.plugin.deactivated, sel.plugin.name, sel.app, reason)
        return sel

    def forget(self, plugin: Registered) -> None:
        """*plugin* is leaving the card: deactivated (DESELECTED) if its application is selected."""
        if self.selected is not None and self.selected.plugin is plugin:
            self.deactivate(DeactivationReason.DESELECTED)

    # -- the ISO effects ----------------------------------------------------------------

    def _answer_error(self, exc: IsoError) -> bytes:
        log.debug("answering %04X: %s", exc.sw, exc.message)
        return sw_bytes(exc.sw)

    def _cla_not_supported(self, command: CommandApdu) -> bytes:
        raise IsoError(SW.CLA_NOT_SUPPORTED, "CLA FF is reserved (PPS / reader pseudo-APDUs)")

    def _channel_not_supported(self, command: CommandApdu) -> bytes:
        cla = command.cla
        channel = (cla & 0x0F) + 4 if cla & 0x40 else cla & 0x03
        raise IsoError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED,
                       f"logical channel {channel}: only the basic channel is supported")

    def _next_chunk(self, command: CommandApdu) -> bytes:
        return self._assembler.next_chunk(command)

    def _drop_pending(self, command: CommandApdu) -> bytes:
        self._assembler.reset()
        return self.route(command)

    _drop_chain = _drop_pending

    def _buffer_part(self, command: CommandApdu) -> bytes:
        return self._assembler.add_part(command)

    def _reassemble(self, command: CommandApdu) -> bytes:
        return self.route(self._assembler.reassemble(command))

    def _select_in_chain(self, command: CommandApdu) -> bytes:
        if self._assembler.continues_chain(command):
            return self._reassemble(command)
        self._assembler.reset()  # a reader starting over (routing module docstring)
        return self.route(command)

    def _no_application(self, command: CommandApdu) -> bytes:
        raise IsoError(SW.UNKNOWN, "no application selected (Android answers 6F00 here)")

    def _process(self, command: CommandApdu) -> bytes:
        sel = self.selected
        assert sel is not None
        app = sel.app
        channel = app.secure_channel
        if channel is None:
            if sel.process is None:
                raise IsoError(SW.INS_NOT_SUPPORTED, f"plugin {sel.name!r} has no process hook")
            data, sw = call_app(sel.process, app, command, sel.name)
            return self._assembler.deliver(command, data, sw)
        try:
            plain = channel.unwrap_command(command)
        except IsoError as exc:
            app.secure_channel = None
            log.info("secure messaging error %04X (%s); session dropped", exc.sw, exc.message)
            return sw_bytes(exc.sw)
        except Exception:
            app.secure_channel = None
            log.exception("secure channel failed to unwrap; session dropped")
            return _SW_UNKNOWN
        if sel.process is None:
            data, sw = b"", int(SW.INS_NOT_SUPPORTED)
        else:
            data, sw = call_app(sel.process, app, plain, sel.name)
        if app.secure_channel is not channel:
            return self._assembler.deliver(command, data, sw)  # the plugin ended the session itself
        try:
            wrapped = channel.wrap_response(plain, ResponseApdu(data, sw))
        except Exception:
            app.secure_channel = None
            log.exception("secure channel failed to wrap; session dropped")
            return _SW_UNKNOWN
        return self._assembler.deliver(command, wrapped.data, wrapped.sw)

    # -- SELECT by DF name --------------------------------------------------------------

    def _candidates(self, name: bytes) -> list[tuple[Registered, Claim, bytes]]:
        """``(plugin, claim, AID)`` a SELECT of *name* reaches, in first/next-occurrence order
        (:func:`hcekit.aid.select_order`: partial names too); raw ones route only by AID."""
        routes = [(p, c) for p, c in self._registry.routes if p.raw is None]
        plugins = {p.name: p for p, _ in routes}
        return [(plugins[owner], claim, aid)
                for aid, owner, claim in select_order(name, [(p.name, c) for p, c in routes])]

    def _select(self, command: CommandApdu) -> bytes:
        name = command.data
        occurrence = command.p2 & P2_OCCURRENCE_MASK
        if occurrence not in (P2_FIRST_OCCURRENCE, P2_NEXT_OCCURRENCE):
            raise IsoError(SW.INCORRECT_P1P2,
                           "SELECT last/previous occurrence is not supported (P2 b2b1 = 01/11)")
        if not name:
            raise IsoError(SW.FILE_NOT_FOUND, "SELECT by DF name with an empty name")
        candidates = self._candidates(name)
        current = self.selected
        if occurrence == P2_NEXT_OCCURRENCE and current is not None:
            keys = [(p.name, c, a) for p, c, a in candidates]
            try:
                position = keys.index((current.plugin.name, current.app.claim, current.app.aid))
            except ValueError:
                position = -1
            candidates = candidates[position + 1:]
        if not candidates:
            raise IsoError(SW.FILE_NOT_FOUND, f"no application matches {name.hex().upper()}")
        plugin, claim, aid = candidates[0]
        app = AppContext(plugin.ctx, claim, aid)
        data, sw = call_app(plugin.select, app, command, plugin.name)
        if not _is_success(sw):
            return self._assembler.deliver(command, data, sw)  # refused: selection unchanged
        self._select_app(Selected(plugin, app))
        reselected = current is not None and current.plugin is plugin and current.app.claim == claim
        if current is not None and not reselected:
            call_quietly(current.plugin.deselect, current.plugin.name, current.app)
        return self._assembler.deliver(command, data, sw)

    # -- the raw route ------------------------------------------------------------------

    def _raw_route(self, raw: bytes) -> bytes | None:
        """The answer when a raw application owns *raw*; None: the ISO rows handle it."""
        aid = routing_select_aid(raw)
        match: RawMatch = None
        if aid is None:
            kind = RawKind.NOT_ROUTING_SELECT
        else:
            match = next(((p, c) for p, c in self._registry.routes
                          if p.raw is not None and c.matches(aid)), None)
            kind = (RawKind.ROUTING_SELECT_RAW if match is not None else
                    RawKind.ROUTING_SELECT_ISO if self._candidates(aid) else
                    RawKind.ROUTING_SELECT_UNCLAIMED)
        return self._raw[self._assembler.transfer][self._selection][kind](raw, aid, match)

    def _raw_select(self, raw: bytes, aid: bytes | None, match: RawMatch) -> bytes:
        """Routing follows the AID, as on Android: selected whatever the application answers."""
        assert match is not None and aid is not None
        plugin, claim = match
        current = self.selected
        self._assembler.reset()
        if current is not None and current.plugin is not plugin:
            self._select_app(None)
            call_quietly(current.plugin.deselect, current.plugin.name, current.app)
        selected = Selected(plugin, AppContext(plugin.ctx, claim,
                                               claim.aid if claim.kind is AidKind.EXACT else aid))
        self._select_app(selected)
        return self._raw_call(selected, raw)

    def _raw_not_found(self, raw: bytes, aid: bytes | None, match: RawMatch) -> bytes:
        return sw_bytes(SW.FILE_NOT_FOUND)  # AOSP's AID_NOT_FOUND; selection unchanged

    def _raw_exchange(self, raw: bytes, aid: bytes | None, match: RawMatch) -> bytes:
        assert self.selected is not None
        return self._raw_call(self.selected, raw)

    def _parse(self, raw: bytes, aid: bytes | None, match: RawMatch) -> None:
        return None  # exchange() parses and runs the ISO rows

    def _raw_call(self, sel: Selected, raw: bytes) -> bytes:
        assert sel.plugin.raw is not None
        try:
            answer = sel.plugin.raw(bytes(raw))
        except Exception:
            log.exception("raw application %r failed on %s; answering 6F00",
                          sel.plugin.name, bytes(raw[:4]).hex().upper())
            return _SW_UNKNOWN
        if type(answer) is not bytes or len(answer) < 2:
            log.error("raw application %r answered %r; a response APDU is bytes ending in SW1 SW2",
                      sel.plugin.name, answer)
            return _SW_UNKNOWN
        return answer

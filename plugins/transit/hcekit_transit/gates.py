"""Answer only transit gates: the ticket's polling-loop filter (Android 15 observe mode).

A gate that follows Apple's Enhanced Contactless Polling (ECP) announces itself
in its polling loop, before any APDU, with a custom frame::

    6A      02        CC        01          SS        TCI (3 bytes)  [more]
    header  version   config    type        subtype   terminal capabilities id

Source: the public description at github.com/kormax/apple-enhanced-contactless-polling
(README, "Structure": header 6A; version 01 or 02; a version 2 payload is
configuration, terminal type, subtype, then TCIs and extra data; terminal type
01 transit, 02 access, 03 identity, 05 AirDrop). It was worked out by
observation; Apple publishes no specification, and whether the controller
hands over the CRC with the frame is the platform's business, so the filter
ends with ``.*``. The one decision hcekit makes — *version 2 and terminal
type 01 is a transit gate* — lives here: :data:`TRANSIT_GATE_PATTERN`.

With the transit option ``gates_only`` the card starts every tap in observe
mode and answers only once such a frame is seen (autoTransact): a payment
terminal or a door reader no longer wakes the ticket. Without it the plugin
declares nothing, so its service XML needs no API 35 attribute and compiles
against older framework resources.
"""

from __future__ import annotations

from hcekit.polling import ECP_HEADER, PollingFilter, PollingLoop

__all__ = ["ECP_HEADER", "ECP_TRANSIT", "TRANSIT_GATE_PATTERN", "gate_announcement",
           "polling_loop"]

ECP_VERSION_2 = 0x02
#: ECP version 2 terminal type "transit" (the public description above).
ECP_TRANSIT = 0x01
#: Configuration byte: bit 8 set, bit 7 "no authentication required", no extra data.
_CONFIG_EXPRESS = 0xC0
#: A TCI for tests and demos; real ones identify a transit agency and are not public.
DEMO_TCI = bytes.fromhex("FFFFFF")

#: ECP version 2, any configuration, terminal type transit, anything after.
TRANSIT_GATE_PATTERN = f"{ECP_HEADER:02X}{ECP_VERSION_2:02X}..{ECP_TRANSIT:02X}.*"


def gate_announcement(tci: bytes = DEMO_TCI, *, terminal_type: int = ECP_TRANSIT,
                      subtype: int = 0x00) -> bytes:
    """The ECP version 2 frame data a gate (or another terminal type) sends, without CRC."""
    if len(tci) != 3:
        raise ValueError(f"a TCI is 3 bytes, got {len(tci)}")
    return bytes([ECP_HEADER, ECP_VERSION_2, _CONFIG_EXPRESS, terminal_type, subtype]) + tci


def polling_loop(gates_only: bool) -> PollingLoop | None:
    """The transit plugin's declaration: with *gates_only*, observe mode and the gate filter."""
    if not gates_only:
        return None
    gate = PollingFilter.pattern(TRANSIT_GATE_PATTERN, auto_transact=True,
                                 description="ECP v2 transit gate (terminal type 01)")
    return PollingLoop((gate,), observe_by_default=True)

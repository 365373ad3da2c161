"""DESFire status words are named by the transit plugin, not by the core."""

from __future__ import annotations

from hcekit.sw import describe
from hcekit_transit.status import DfStatus, wrapped_sw


def test_the_transit_plugin_names_desfire_status_words() -> None:
    assert describe(wrapped_sw(DfStatus.PERMISSION_DENIED)) == "DESFIRE_PERMISSION_DENIED"
    assert describe(0x9142) == "DESFIRE_STATUS(42)"

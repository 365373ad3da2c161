"""A private pcscd never starts on ports someone else listens on (a system pcscd with vpcd):
its readiness check would see the other daemon's socket and the tests would talk to it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from hcekit.testing.pcsc import PcscUnavailable, PrivatePcscd, free_port_block

pytestmark = pytest.mark.pcsc


def test_taken_vpcd_port_is_refused(tmp_path: Path) -> None:
    base = free_port_block(2)
    with socket.socket() as other:
        other.bind(("127.0.0.1", base + 1))
        other.listen()
        daemon = PrivatePcscd(tmp_path, slots=2, base_port=base)
        with pytest.raises(PcscUnavailable, match=rf"port\(s\) {base + 1} already in use"):
            daemon.start()
        assert not daemon.running

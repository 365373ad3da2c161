"""Keys never reach logs or traces: sensitive exchanges are marked, key objects redact themselves."""

from __future__ import annotations

import logging

import pytest
from hcekit.store import MemoryStore
from hcekit.testing.loopback import loopback_rig
from hcekit.trace import TraceRecord, format_record
from hcekit_transit import TRANSIT_AID, IssuerKeys, TransitPlugin
from hcekit_transit.reader import DesfireReader
from hcekit_transit.terminals import gate_tap, inspect

from .conftest import UID


class Recorder:
    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def hcekit_trace(self, record: TraceRecord) -> None:
        self.records.append(record)


def test_authenticated_exchanges_are_sensitive_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    rig = loopback_rig([TransitPlugin(), ("recorder", recorder)], store=MemoryStore(),
                       options={"transit": {"uid": UID.hex()}})
    keys = IssuerKeys.test_keys()
    reader = DesfireReader(rig.terminal)
    with rig.terminal.tap():
        assert gate_tap(reader, keys, 1, 1_780_000_000).accepted
    with rig.terminal.tap():
        inspect(reader, keys)
    rig.close()
    in_session = False
    checked = 0
    for r in recorder.records:
        if r.command[:2] == b"\x00\xa4":  # SELECT: a new selection, no session yet
            in_session = False
            assert not r.sensitive
        in_session = in_session or r.command[1] == 0xAA
        if in_session:
            assert r.sensitive, r.command.hex()
            checked += 1
    assert checked >= 10
    secrets = [keys.picc, keys.validator, keys.inspector, keys.picc_key(UID),
               keys.role_key("validator", UID, TRANSIT_AID),
               keys.role_key("inspector", UID, TRANSIT_AID)]
    traced = "\n".join(format_record(r) for r in recorder.records)
    logged = caplog.text
    for key in secrets:
        for text in (traced, logged):
            assert key.hex() not in text.lower()
            assert key.hex(" ").upper() not in text
    assert "TEST keys" in logged  # the self-personalisation says which keys it used


def test_key_objects_do_not_print_keys() -> None:
    keys = IssuerKeys.test_keys()
    for text in (repr(keys), str(keys), f"{keys}"):
        assert keys.picc.hex() not in text and "redacted" in text

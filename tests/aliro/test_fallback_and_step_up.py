"""A reader falling back from fast to a certificate, and EXCHANGE after step-up (issue 31).

Item 13: a reader that cannot open the fast cryptogram (a replaced reader, a
lost cache) continues with LOAD CERT then AUTH1; the credential refused the
LOAD CERT with 6985. Item 14: after step-up a reader may encrypt its final
EXCHANGE under the step-up keys (aliro-actuator's user device decrypts it so)
or under the expedited keys (the certification tool's NFC_UD_STEPUP_AD sends
it so); both are accepted. Item 16: the built-in reader exercises both paths.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from hcekit.cli import main
from hcekit.store import MemoryStore, SqliteStore
from hcekit.terminal import ScriptContext
from hcekit.testing.loopback import loopback_rig
from hcekit_aliro import AliroPlugin, Credential
from hcekit_aliro.assumptions import EXCHANGE_OK
from hcekit_aliro.reader import AliroReader, ReaderIdentity, reader_script


def test_a_reader_that_lost_its_cache_falls_back_to_a_certificate() -> None:
    rig = loopback_rig([AliroPlugin()], store=MemoryStore())
    reader = AliroReader(rig.terminal, ReaderIdentity.test())
    with rig.terminal.tap():
        assert reader.transact(fast=False, certificate="load").flow == "standard"
    reader.cache.clear()  # the credential still holds Kpersistent; this reader does not
    with rig.terminal.tap():
        txn = reader.transact(fast=True, certificate="load")
        assert txn.flow == "standard"
        assert reader.exchange(txn, reads=[(0, 4)])[1] == EXCHANGE_OK
    with rig.terminal.tap():  # and the replaced key lets the next tap be fast again
        assert reader.transact(fast=True).flow == "fast"
    rig.close()


def test_exchange_after_step_up_under_either_key_set() -> None:
    rig = loopback_rig([AliroPlugin()], store=MemoryStore())
    reader = AliroReader(rig.terminal, ReaderIdentity.test())
    for keys in ("step-up", "expedited"):
        with rig.terminal.tap():
            txn = reader.transact(fast=False, certificate="load")
            assert reader.step_up(txn).get("2")
            data, status = reader.exchange(txn, reads=[(0, 4)], keys=keys)
            assert status == EXCHANGE_OK and len(data[0]) == 4, keys
            # the channel the reader chose stays in step for a second EXCHANGE
            assert reader.exchange(txn, keys=keys)[1] == EXCHANGE_OK
    rig.close()


def test_the_reader_script_exercises_fallback_and_step_up_exchange() -> None:
    rig = loopback_rig([AliroPlugin()], store=MemoryStore())
    out = io.StringIO()
    assert reader_script.run(ScriptContext(rig.terminal, {}, out)) == 0, out.getvalue()
    text = out.getvalue()
    assert "fast after a lost cache, certificate: standard transaction" in text
    assert "step-up EXCHANGE: status 00020000" in text
    rig.close()


def test_show_public_key_prints_the_whole_key(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Item 15: a reader enrols the credential's whole public key, PEM or uncompressed hex."""
    store = str(tmp_path / "s.sqlite")
    assert main(["aliro", "personalize", "--store", store]) == 0
    personalised = capsys.readouterr().out
    assert main(["aliro", "show", "--store", store, "--public-key"]) == 0
    shown = capsys.readouterr().out
    backend = SqliteStore(store, read_only=True)
    point = Credential(backend.namespace("aliro")).endpoint_public
    backend.close()
    assert len(point) == 65 and point[0] == 4
    assert point.hex().upper() in shown and point.hex().upper() in personalised
    pem = shown[shown.index("-----BEGIN PUBLIC KEY-----"):
                shown.index("-----END PUBLIC KEY-----") + len("-----END PUBLIC KEY-----")]
    key = load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint) == point

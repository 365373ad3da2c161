"""Loopback tests of the pieces: CBOR against cbor2, the certificate against X.509,
the reader script, personalisation, conformance and the Android AID registration."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.store import SqliteStore
from hcekit.terminal import ScriptContext
from hcekit.testing.loopback import loopback_rig
from hcekit_aliro import EXPEDITED_AID, STEP_UP_AID, AliroPlugin, Credential, cbor
from hcekit_aliro.certificate import CertificateError, ReaderCertificate
from hypothesis import given
from hypothesis import strategies as st

from .conftest import World, compress, make_certificate
from .reader_side import pub

_ints = st.integers(-2**64, 2**64 - 1)   # CBOR's integer range
_scalars = st.one_of(_ints, st.binary(max_size=40), st.text(max_size=20),
                     st.booleans(), st.none())
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), _ints),
                                                 inner, max_size=4)), max_leaves=12)


@given(_values)
def test_cbor_round_trips_against_cbor2(value: object) -> None:
    ours = cbor.dumps(value)
    assert cbor2.loads(ours) == value
    assert cbor.loads(cbor2.dumps(value)) == value


def test_cbor_rejects_truncated_and_trailing_bytes() -> None:
    with pytest.raises(cbor.CborError):
        cbor.loads(b"\x58\x05ab")
    with pytest.raises(cbor.CborError):
        cbor.loads(b"\x01\x02")


def test_certificate_tbs_is_the_x509_tbs(world: World) -> None:
    x509_cert = make_certificate(world.issuer, world.reader_key.public_key(), serial=0x8123)
    decoded = ReaderCertificate.decode(compress(x509_cert))
    assert decoded.tbs(pub(world.issuer)) == x509_cert.tbs_certificate_bytes
    decoded.verify(world.issuer.public_key())
    with pytest.raises(CertificateError):
        decoded.verify(ec.generate_private_key(ec.SECP256R1()).public_key())


@pytest.mark.parametrize("damage", [b"", b"\x30\x00", b"\x30\x03\x04\x01\x00"])
def test_certificate_decode_refuses_garbage(damage: bytes) -> None:
    with pytest.raises(CertificateError):
        ReaderCertificate.decode(damage)


def test_reader_script_grants_access_and_keeps_kpersistent(tmp_path: Path) -> None:
    from hcekit_aliro.reader import reader_script

    path = tmp_path / "c.sqlite"
    backend = SqliteStore(path)
    rig = loopback_rig([AliroPlugin()], store=backend)
    out = io.StringIO()
    assert reader_script.run(ScriptContext(rig.terminal, {}, out)) == 0, out.getvalue()
    text = out.getvalue()
    assert "fast again: fast transaction" in text and "step-up: 1 access document" in text
    rig.close()
    backend.close()
    store = SqliteStore(path)
    assert len(Credential(store.namespace("aliro")).cached_readers()) == 1
    store.close()


def test_cli_personalize_then_reader(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    hcekit = [str(Path(sys.executable).parent / "hcekit")]
    done = subprocess.run([*hcekit, "aliro", "personalize", "--store", str(store)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([*hcekit, "aliro", "personalize", "--store", str(store)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "--force" in again.stderr
    run = subprocess.run([*hcekit, "aliro", "reader", "--store", str(store)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "ACCESS GRANTED" in run.stdout, run.stdout + run.stderr
    shown = subprocess.run([*hcekit, "aliro", "show", "--store", str(store)],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "documents: aliro-a, aliro-r" in shown.stdout
    assert "readers with a Kpersistent (fast flow): 1" in shown.stdout
    bad = subprocess.run([*hcekit, "aliro", "personalize", "--store", str(store), "--group", "00"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "16 bytes" in bad.stderr
    both = subprocess.run([*hcekit, "aliro", "reader", "--reader", "x", "--store", str(store)],
                          capture_output=True, text=True, timeout=120)
    assert both.returncode == 2 and "--store is for the in-process card" in both.stderr
    nowhere = subprocess.run([*hcekit, "aliro", "personalize", "--store",
                              str(tmp_path / "no" / "such" / "dir.sqlite")],
                             capture_output=True, text=True, timeout=120)
    assert nowhere.returncode != 0 and "Traceback" not in nowhere.stderr, nowhere.stderr


def test_conformance_passes() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "hcekit"), "check", "aliro"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout and "PASSED   secrets" in done.stdout


def test_android_aid_xml_registers_both_aids_as_other() -> None:
    from hcekit.aid import Category
    from hcekit_android.manifest import aid_xml, parse_aid_xml

    rig = loopback_rig([AliroPlugin()])
    xml = aid_xml(rig.card.claims())
    assert sorted(parse_aid_xml(xml)) == sorted([(Category.OTHER, EXPEDITED_AID.hex().upper()),
                                                 (Category.OTHER, STEP_UP_AID.hex().upper())])


def test_options_personalise_an_empty_store(world: World) -> None:
    from hcekit.store import MemoryStore

    from .conftest import GROUP

    store = MemoryStore()
    rig = loopback_rig([AliroPlugin()], store=store, options={"aliro": {
        "group": GROUP.hex(), "reader_key": pub(world.reader_key).hex(), "mailbox_write": "no"}})
    credential = Credential(store.namespace("aliro"))
    group = credential.group(GROUP)
    assert group is not None and group.reader_public == pub(world.reader_key)
    assert not credential.mailbox_writable and credential.documents
    reader = world.reader(rig.terminal)
    with rig.terminal.tap():
        assert reader.select().sw == 0x9000 and reader.auth0().sw == 0x9000
        assert reader.auth1()[0].sw == 0x9000
    rig.close()


def test_options_are_checked() -> None:
    from hcekit.errors import PluginLoadError
    from hcekit.options import OptionError

    with pytest.raises(OptionError, match="did you mean 'group'"):
        loopback_rig([AliroPlugin()], options={"aliro": {"groups": "00" * 16}})
    with pytest.raises(PluginLoadError, match=r"need aliro\.group"):
        loopback_rig([AliroPlugin()], options={"aliro": {"reader_key": "04" + "00" * 64}})


def test_every_exchange_after_select_is_redacted_including_get_response() -> None:
    """Key material, cryptograms and GCM payloads never reach a trace in clear — also not
    the GET RESPONSE parts of a long (61xx-chained) step-up answer."""
    from hcekit import Card
    from hcekit.hosts import LoopbackHost
    from hcekit.terminal import LoopbackTransport, Terminal
    from hcekit.trace import TraceRecord, format_record
    from hcekit_aliro.reader import reader_script

    records: list[TraceRecord] = []

    class Recorder:
        name = "recorder"

        def hcekit_trace(self, record: TraceRecord) -> None:
            records.append(record)

    card = Card([AliroPlugin(), Recorder()])
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    assert reader_script.run(ScriptContext(terminal, {}, io.StringIO())) == 0
    card.close()
    get_responses = [r for r in records if r.command[1] == 0xC0]
    assert get_responses, "the step-up answer was expected to be chained"
    for record in records:
        if record.command[1] == 0xA4:
            continue
        assert record.sensitive, record.command.hex()
        shown = format_record(record).replace(" ", "")
        for payload in (record.command[5:], record.response[:-2]):
            if len(payload) >= 8:
                assert payload.hex().upper() not in shown

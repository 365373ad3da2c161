"""``hcekit payment …`` commands and the zero-configuration demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit.cli import main
from hcekit.store import SqliteStore
from hcekit_payment.atc import ATC_KEY
from hcekit_payment.personalization import load


def test_personalize_show_and_keep_atc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    assert main(["payment", "personalize", "--store", str(store), "--cvn", "10",
                 "--pan", "4761739001010010"]) == 0
    assert "personalised ************0010 CVN 10" in capsys.readouterr().out
    backend = SqliteStore(store)
    ns = backend.namespace("payment")
    perso = load(ns)
    assert perso is not None and perso.pan == "4761739001010010"
    ns.set_int(ATC_KEY, 7)
    backend.close()

    assert main(["payment", "personalize", "--store", str(store)]) == 1  # a card is there
    assert "already holds a payment card; --force replaces it" in capsys.readouterr().err
    assert main(["payment", "personalize", "--store", str(store), "--force"]) == 0
    assert main(["payment", "show", "--store", str(store)]) == 0
    shown = capsys.readouterr().out
    assert "************1111" in shown and "ATC       7" in shown and "TEST issuer key" in shown
    assert "4111111111111111" not in shown


def test_personalize_refuses_a_non_test_pan(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    assert main(["payment", "personalize", "--store", str(store),
                 "--pan", "4000123412341234"]) == 2
    err = capsys.readouterr().err
    assert "documented test range" in err and "--allow-non-test-pan" in err
    assert not store.exists()  # a refused personalisation leaves nothing behind
    assert main(["payment", "show", "--store", str(store)]) == 1
    assert not store.exists()  # nor does show
    assert main(["payment", "personalize", "--store", str(store),
                 "--pan", "4000123412341234", "--allow-non-test-pan"]) == 0


def test_test_ranges_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payment", "test-ranges"]) == 0
    assert "4111111111111111" in capsys.readouterr().out


def test_demo_runs_the_pos_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--only", "payment", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "payment-pos: ok" in out and "Issuer check  OK" in out


def test_issuer_key_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--imk-file keeps the issuer key out of argv (there is no --imk); the key is the file's."""
    from hcekit_payment.keys import derive_icc_master_key_a

    key = "3C4F1A2B5D6E7F80918273645546372A"
    (tmp_path / "imk.hex").write_text(key + "\n")
    assert main(["payment", "personalize", "--store", str(tmp_path / "a.sqlite"),
                 "--imk-file", str(tmp_path / "imk.hex")]) == 0
    from_file = capsys.readouterr().out
    assert "TEST issuer key" not in from_file and key not in from_file
    backend = SqliteStore(tmp_path / "a.sqlite")
    perso = load(backend.namespace("payment"))
    backend.close()
    assert perso is not None
    assert perso.icc_mk == derive_icc_master_key_a(bytes.fromhex(key), perso.pan, "00")
    with pytest.raises(SystemExit) as refused:  # a key on argv is not offered
        main(["payment", "personalize", "--store", str(tmp_path / "b.sqlite"), "--imk", key])
    assert refused.value.code == 2 and not (tmp_path / "b.sqlite").exists()
    assert main(["payment", "personalize", "--store", str(tmp_path / "c.sqlite"),
                 "--imk-file", str(tmp_path / "missing.hex")]) == 2
    assert "--imk-file" in capsys.readouterr().err
    assert not (tmp_path / "c.sqlite").exists()


def test_issuer_script_keys_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lab's own SMI/SMC keys: the card's script keys derive from them, not the TEST ones."""
    from hcekit_payment.keys import derive_icc_master_key_a

    smi, smc = "11" * 16, "22" * 16
    (tmp_path / "smi.hex").write_text(smi + "\n")
    (tmp_path / "smc.hex").write_text(smc)
    store = tmp_path / "store.sqlite"
    assert main(["payment", "personalize", "--store", str(store),
                 "--imk-smi-file", str(tmp_path / "smi.hex"),
                 "--imk-smc-file", str(tmp_path / "smc.hex")]) == 0
    assert smi not in capsys.readouterr().out
    backend = SqliteStore(store)
    perso = load(backend.namespace("payment"))
    backend.close()
    assert perso is not None
    assert perso.icc_mk_smi == derive_icc_master_key_a(bytes.fromhex(smi), perso.pan, "00")
    assert perso.icc_mk_smc == derive_icc_master_key_a(bytes.fromhex(smc), perso.pan, "00")
    assert main(["payment", "personalize", "--store", str(store), "--force",
                 "--imk-smc-file", str(tmp_path / "missing.hex")]) == 2
    assert "--imk-smc-file" in capsys.readouterr().err

"""Known answers for the EV1 crypto pieces, and a cross-check against python-desfire's own CMAC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hcekit.testing.requirements import missing
from hcekit_transit.crypto import SessionCipher, crc32, diversify_key, rotate_left, session_key
from hypothesis import given, settings
from hypothesis import strategies as st

VECTORS = Path(__file__).parents[1] / "vectors"


def load(name: str) -> list[dict[str, str]]:
    data = json.loads((VECTORS / name).read_text())
    assert data["source"]
    vectors: list[dict[str, str]] = data["vectors"]
    return vectors


@pytest.mark.parametrize("vector", load("transit/desfire_crc32.json"), ids=lambda v: v["name"])
def test_crc32_known_answers(vector: dict[str, str]) -> None:
    assert crc32(vector["message_ascii"].encode()) == bytes.fromhex(vector["crc_le"])


AES128_CMAC = [v for v in load("sm/aes_cmac_sp800_38b.json") if len(v["key"]) == 32]


@pytest.mark.parametrize("vector", AES128_CMAC, ids=lambda v: v["name"])
def test_session_cmac_from_a_zero_iv_is_sp800_38b(vector: dict[str, str]) -> None:
    key = bytes.fromhex(vector["key"])
    cipher = SessionCipher(key)
    tag = cipher.cmac(bytes.fromhex(vector["message"]))
    assert tag == bytes.fromhex(vector["tag"])
    assert cipher.iv == tag  # EV1: the IV becomes the CMAC


@pytest.mark.parametrize("vector", load("sm/an10922_aes128.json"), ids=lambda v: v["name"])
def test_an10922_worked_example(vector: dict[str, str]) -> None:
    derived = diversify_key(bytes.fromhex(vector["master_key"]), bytes.fromhex(vector["uid"]),
                            bytes.fromhex(vector["aid"]),
                            bytes.fromhex(vector["system_identifier"]))
    assert derived == bytes.fromhex(vector["diversified_key"])


def test_session_key_and_rotation() -> None:
    a, b = bytes(range(16)), bytes(range(16, 32))
    assert session_key(a, b) == a[:4] + b[:4] + a[12:] + b[12:]
    assert rotate_left(a) == a[1:] + a[:1]


def test_encrypt_decrypt_chain_the_iv() -> None:
    card, reader = SessionCipher(b"k" * 16), SessionCipher(b"k" * 16)
    ct = reader.encrypt(b"a" * 32)
    assert card.decrypt(ct) == b"a" * 32
    assert card.iv == reader.iv == ct[-16:]
    with pytest.raises(ValueError):
        card.decrypt(b"short")


def _python_desfire() -> Any:
    try:
        from desfire.enums import DESFireKeyType
        from desfire.key import DESFireKey
        from desfire.schemas import KeySettings
    except ImportError:
        reason = "python-desfire is not installed (pip install 'hcekit[interop]')"
        missing(reason)

    def make(key: bytes) -> Any:
        k = DESFireKey(KeySettings(key_type=DESFireKeyType.DF_KEY_AES), key)
        k.generate_cmac()
        k.clear_iv()
        return k

    return make


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16),
       messages=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=5))
def test_chained_cmac_matches_python_desfire(key: bytes, messages: list[bytes]) -> None:
    """python-desfire computes EV1 CMACs with its own code (pycryptodome): same chain.

    (Non-empty messages: EV1 always MACs at least the command or status byte, and
    python-desfire's CMAC returns nothing for an empty input.)
    """
    theirs = _python_desfire()(key)
    ours = SessionCipher(key)
    for message in messages:
        assert ours.cmac(message) == bytes(theirs.calculate_cmac(list(message)))

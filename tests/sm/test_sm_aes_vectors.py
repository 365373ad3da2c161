"""The AES path against ICAO 9303 Appendix G and an independent implementation.

Appendix G (PACE, AES-128) pins the ICAO KDF for AES keys and AES-CMAC/8;
the gmrtd APDUs pin the AES SM layout (IV = E(KSenc, SSC), DO 87, CMAC over
SSC ‖ header ‖ DOs) as another reader implements it.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from hcekit import CommandApdu, ResponseApdu
from hcekit.sm import (
    ICAO_KDF_PI,
    AesSuite,
    CardSession,
    IcaoCipher,
    TerminalSession,
    aes_cmac,
    icao_kdf,
)
from hcekit.sm.bac import bac_key_seed, mrz_information

from .sm_vectors import ids, load

PACE = load("icao9303_pace_appendix_g.json")
INTEROP = load("aes_sm_interop_gmrtd.json")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_pace_password_key_from_the_mrz() -> None:
    mrz = PACE["mrz"]
    info = mrz_information(mrz["document_number"], mrz["date_of_birth"], mrz["date_of_expiry"])
    # PACE uses the whole SHA-1 of MRZ_information (BAC keeps 16 bytes of it).
    digest = hashes.Hash(hashes.SHA1())
    digest.update(info.encode())
    k = digest.finalize()
    assert k == h(PACE["k_password"]) and bac_key_seed(info) == k[:16]
    assert icao_kdf(k, ICAO_KDF_PI, IcaoCipher.AES128) == h(PACE["k_pi"])


def test_pace_session_keys_and_tokens() -> None:
    secret = h(PACE["shared_secret"])
    assert icao_kdf(secret, 1, IcaoCipher.AES128) == h(PACE["ks_enc"])
    assert icao_kdf(secret, 2, IcaoCipher.AES128) == h(PACE["ks_mac"])
    suite = AesSuite.from_seed(secret)
    session = TerminalSession(suite, bytes(16))  # PACE starts the SSC at zero
    assert session.ssc.value == bytes(16)
    ks_mac = h(PACE["ks_mac"])
    assert aes_cmac(ks_mac, h(PACE["t_ifd_input"]), 8) == h(PACE["t_ifd"])
    assert aes_cmac(ks_mac, h(PACE["t_ic_input"]), 8) == h(PACE["t_ic"])


@pytest.mark.parametrize("v", INTEROP["commands"], ids=ids(INTEROP["commands"]))
def test_aes_command_matches_independent_reader(v: dict[str, Any]) -> None:
    suite = AesSuite(h(v["ks_enc"]), h(v["ks_mac"]))
    plain = CommandApdu.parse(h(v["plain"]))
    assert TerminalSession(suite, h(v["ssc_before"])).wrap_command(plain).to_bytes() \
        == h(v["protected"])
    card = CardSession(suite, h(v["ssc_before"]))
    assert card.unwrap_command(CommandApdu.parse(h(v["protected"]))) == plain


@pytest.mark.parametrize("v", INTEROP["responses"], ids=ids(INTEROP["responses"]))
def test_aes_response_matches_independent_reader(v: dict[str, Any]) -> None:
    suite = AesSuite(h(v["ks_enc"]), h(v["ks_mac"]))
    terminal = TerminalSession(suite, h(v["ssc_before"]))
    plain = terminal.unwrap_response(ResponseApdu.parse(h(v["protected"])))
    assert plain.to_bytes() == h(v["plain"])
    # and the card side produces the very same bytes for that answer (command INS even)
    card = CardSession(suite, h(v["ssc_before"]))
    wrapped = card.wrap_response(CommandApdu(0x00, 0xB0, 0, 0, b"", 256),
                                 ResponseApdu.parse(h(v["plain"])))
    assert wrapped.to_bytes() == h(v["protected"])

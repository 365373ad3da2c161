"""ICAO Doc 9303 Part 11 Appendix D (BAC worked example), byte for byte.

First each step in isolation (MRZ → keys, mutual authentication, each
protected APDU), then the whole example end to end: the shipped eMRTD
personality (``hcekit_mrtd``, personalized as the Appendix D document) on a
real :class:`~hcekit.Card` behind the loopback host, a
:class:`~hcekit.terminal.Terminal` doing BAC and secure messaging, and every
APDU on the wire compared with the published bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hcekit import Card, CommandApdu, ResponseApdu
from hcekit.hosts import LoopbackHost
from hcekit.sm import (
    CardSession,
    IcaoCipher,
    TdesSuite,
    TerminalSession,
    icao_kdf,
    mutual_authenticate,
)
from hcekit.sm.bac import bac_card, bac_key_seed, bac_keys, bac_terminal, mrz_information
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_mrtd import EF_COM, EMRTD_AID, MrtdPlugin, Personalization, Td3Mrz

from .sm_example_plugin import fixed_random
from .sm_vectors import load

EXAMPLE = load("icao9303_bac_worked_example.json")
MRZ: dict[str, str] = EXAMPLE["mrz"]
AUTH: dict[str, str] = EXAMPLE["authentication"]
SM: list[dict[str, str]] = EXAMPLE["secure_messaging"]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_document_basic_access_keys_from_the_mrz() -> None:
    info = mrz_information(MRZ["document_number"], MRZ["date_of_birth"], MRZ["date_of_expiry"])
    assert info == MRZ["mrz_information"]
    assert bac_key_seed(info) == h(MRZ["k_seed"])
    assert bac_keys(info) == (h(MRZ["k_enc"]), h(MRZ["k_mac"]))


def _session_parts() -> tuple[TdesSuite, bytes]:
    return TdesSuite(h(AUTH["ks_enc"]), h(AUTH["ks_mac"])), h(AUTH["ssc"])


def test_mutual_authentication_and_session_keys() -> None:
    info = MRZ["mrz_information"]
    terminal = bac_terminal(info, random=fixed_random(h(AUTH["rnd_ifd"]), h(AUTH["k_ifd"])))
    card = bac_card(info, random=fixed_random(h(AUTH["rnd_icc"]), h(AUTH["k_icc"])))
    rnd_icc = card.get_challenge()
    assert rnd_icc == h(AUTH["rnd_icc"])
    token = terminal.respond(rnd_icc)
    assert token == h(AUTH["e_ifd"] + AUTH["m_ifd"])
    answer, card_session = card.authenticate(token)
    assert answer + b"\x90\x00" == h(AUTH["external_authenticate_response"])
    terminal_session = terminal.finish(answer)
    # Session keys: KDF of K.IFD xor K.ICC, SSC from the nonces.
    seed = bytes(a ^ b for a, b in zip(h(AUTH["k_ifd"]), h(AUTH["k_icc"]), strict=True))
    assert seed == h(AUTH["k_seed_session"])
    assert icao_kdf(seed, 1, IcaoCipher.TDES) == h(AUTH["ks_enc"])
    assert icao_kdf(seed, 2, IcaoCipher.TDES) == h(AUTH["ks_mac"])
    assert card_session.ssc.value == terminal_session.ssc.value == h(AUTH["ssc"])
    # Both sessions use the published session keys: check via the first protected APDU.
    first = SM[0]
    wrapped = terminal_session.wrap_command(CommandApdu.from_hex(first["plain_command"]))
    assert wrapped.to_bytes() == h(first["protected_command"])
    assert card_session.unwrap_command(wrapped) == CommandApdu.from_hex(first["plain_command"])


@pytest.mark.parametrize("step", range(len(SM)), ids=[s["name"] for s in SM])
def test_protected_apdus_each_step(step: int) -> None:
    suite, ssc = _session_parts()
    terminal = TerminalSession(suite, ssc)
    card = CardSession(suite, ssc)
    for i, s in enumerate(SM[: step + 1]):
        plain = CommandApdu.from_hex(s["plain_command"])
        wrapped = terminal.wrap_command(plain)
        unwrapped = card.unwrap_command(CommandApdu.from_hex(s["protected_command"]))
        protected_response = card.wrap_response(unwrapped,
                                                ResponseApdu.parse(h(s["plain_response"])))
        response = terminal.unwrap_response(ResponseApdu.parse(h(s["protected_response"])))
        if i == step:
            assert wrapped.to_bytes() == h(s["protected_command"])
            assert unwrapped == plain
            assert protected_response.to_bytes() == h(s["protected_response"])
            assert response.to_bytes() == h(s["plain_response"])


#: The Appendix D document: ICAO's earlier specimen passport (the same holder as
#: today's, other number and dates), an LDS 1.6 chip with DG1 and DG2.
APPENDIX_D_DOCUMENT = Personalization(
    Td3Mrz.create(document_number=MRZ["document_number"], issuing_state="UTO",
                  surname="ERIKSSON", given_names="ANNA MARIA", nationality="UTO",
                  date_of_birth=MRZ["date_of_birth"], sex="F",
                  date_of_expiry=MRZ["date_of_expiry"], personal_number="ZE184226B"),
    lds_version="0106", unicode_version="040000")


def test_appendix_d_personalization_reproduces_its_ef_com() -> None:
    assert APPENDIX_D_DOCUMENT.mrz.bac_information == MRZ["mrz_information"]
    ef_com = APPENDIX_D_DOCUMENT.files[EF_COM.fid].content
    plain = [s for s in SM if s["plain_command"].startswith("00B0")]
    published = b"".join(h(s["plain_response"])[:-2] for s in plain)
    assert ef_com == published


def _bac_card() -> Card:
    plugin = MrtdPlugin(APPENDIX_D_DOCUMENT,
                        random=fixed_random(h(AUTH["rnd_icc"]), h(AUTH["k_icc"])))
    return Card([plugin])


def test_worked_example_end_to_end_through_card_host_and_terminal() -> None:
    wire: list[tuple[bytes, bytes]] = []
    terminal = Terminal(LoopbackTransport(LoopbackHost(_bac_card())),
                        on_exchange=lambda c, r: wire.append((c, r)))
    inspection = bac_terminal(MRZ["mrz_information"],
                              random=fixed_random(h(AUTH["rnd_ifd"]), h(AUTH["k_ifd"])))
    with terminal.tap():
        assert terminal.select(EMRTD_AID, le=None).ok
        session = mutual_authenticate(terminal, inspection)
        assert session.ssc.value == h(AUTH["ssc"])
        plain = [session.transmit(terminal, s["plain_command"]) for s in SM]
    expected: list[tuple[str, str]] = [
        (AUTH["get_challenge_command"], AUTH["get_challenge_response"]),
        (AUTH["external_authenticate_command"], AUTH["external_authenticate_response"]),
    ] + [(s["protected_command"], s["protected_response"]) for s in SM]
    assert [(c.hex().upper(), r.hex().upper()) for c, r in wire[1:]] == expected
    assert [p.to_bytes() for p in plain] == [h(s["plain_response"]) for s in SM]
    assert b"".join(p.data for p in plain[1:]) == APPENDIX_D_DOCUMENT.files[EF_COM.fid].content


def test_bac_terminal_rejects_a_card_with_other_keys() -> None:
    from hcekit.sm import AuthenticationError

    terminal = Terminal(LoopbackTransport(LoopbackHost(_bac_card())))
    wrong = bac_terminal(mrz_information("L898902C", "690806", "940624"))
    with terminal.tap():
        terminal.select(EMRTD_AID)
        with pytest.raises(AuthenticationError, match="6300"):
            mutual_authenticate(terminal, wrong)


def test_vector_file_names_its_source() -> None:
    data: dict[str, Any] = load("icao9303_bac_worked_example.json")
    assert "9303" in data["source"] and "Appendix D" in data["source"]

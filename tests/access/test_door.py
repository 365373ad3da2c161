"""The door reader: grant, and every way to be denied, over loopback."""

from __future__ import annotations

import datetime
import io
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.store import MemoryStore
from hcekit.terminal import ScriptContext
from hcekit.testing import loopback_rig
from hcekit_access import BadgeRequest, DoorPolicy, Fascn, decide, personalize
from hcekit_access.badge import _issue_certificate
from hcekit_access.door import DOOR_SCRIPT, Decision, normalize_identifier
from hcekit_access.objects import Chuid

from .conftest import BadgeFactory, CertificateAuthority

NOW = datetime.datetime.now(datetime.UTC)


def facility_badge(ca: CertificateAuthority, **changes: object) -> BadgeRequest:
    fields: dict[str, object] = {"issuer_key": ca.key, "issuer_cert": ca.cert}
    fields.update(changes)
    return BadgeRequest(**fields)  # type: ignore[arg-type]


def policy(ca: CertificateAuthority, *allowed: str) -> DoorPolicy:
    return DoorPolicy((ca.cert,), frozenset(normalize_identifier(a) for a in allowed))


def tap(badge_rig: BadgeFactory, request: BadgeRequest | None, door: DoorPolicy,
        store: MemoryStore | None = None) -> tuple[Decision, str]:
    rig, plugin = badge_rig(request, store)
    with rig.terminal.tap():
        decision = decide(rig.terminal, door)
    assert plugin.badge is not None
    return decision, plugin.badge.identifier


def test_grant_for_an_enrolled_badge(badge_rig: BadgeFactory,
                                     facility_ca: CertificateAuthority) -> None:
    card = uuid.uuid4()
    decision, identifier = tap(badge_rig, facility_badge(facility_ca, card_uuid=card),
                               policy(facility_ca, str(card).upper()))
    assert identifier == str(card)
    assert decision.granted, decision
    assert decision.identifier == str(card)


def test_grant_for_a_fascn_enrolled_badge(badge_rig: BadgeFactory,
                                          facility_ca: CertificateAuthority) -> None:
    fascn = "1234-0001-000042-0-1-0000000042-1-1234-1"
    decision, _ = tap(badge_rig, facility_badge(facility_ca, fascn=Fascn.parse(fascn)),
                      policy(facility_ca, fascn))
    assert decision.granted, decision


def test_deny_unknown_card(badge_rig: BadgeFactory, facility_ca: CertificateAuthority) -> None:
    decision, identifier = tap(badge_rig, facility_badge(facility_ca),
                               policy(facility_ca, str(uuid.uuid4())))
    assert not decision.granted
    assert "not on the allow-list" in decision.reason
    assert decision.identifier == identifier


def test_deny_when_no_allow_list_with_a_real_trust_anchor(
        badge_rig: BadgeFactory, facility_ca: CertificateAuthority) -> None:
    decision, _ = tap(badge_rig, facility_badge(facility_ca), policy(facility_ca))
    assert not decision.granted
    assert "no allow-list" in decision.reason


def test_deny_untrusted_certificate(badge_rig: BadgeFactory, facility_ca: CertificateAuthority,
                                    rogue_ca: CertificateAuthority) -> None:
    """Issued by a CA with the facility CA's very name but another key."""
    card = uuid.uuid4()
    decision, _ = tap(badge_rig, facility_badge(rogue_ca, card_uuid=card),
                      policy(facility_ca, str(card)))
    assert not decision.granted
    assert "not a trusted CA" in decision.reason


def test_deny_test_badge_at_a_real_door(badge_rig: BadgeFactory,
                                        facility_ca: CertificateAuthority) -> None:
    rig, plugin = badge_rig()  # self-personalized under the TEST CA
    assert plugin.badge is not None
    with rig.terminal.tap():
        decision = decide(rig.terminal, policy(facility_ca, plugin.badge.identifier))
    assert not decision.granted
    assert "not a trusted CA" in decision.reason


def test_deny_expired_certificate(badge_rig: BadgeFactory,
                                  facility_ca: CertificateAuthority) -> None:
    card = uuid.uuid4()
    request = facility_badge(facility_ca, card_uuid=card,
                             not_before=NOW - datetime.timedelta(days=400),
                             not_after=NOW - datetime.timedelta(days=35))
    decision, _ = tap(badge_rig, request, policy(facility_ca, str(card)))
    assert not decision.granted
    assert "expired" in decision.reason


def test_deny_not_yet_valid_certificate(badge_rig: BadgeFactory,
                                        facility_ca: CertificateAuthority) -> None:
    card = uuid.uuid4()
    request = facility_badge(facility_ca, card_uuid=card,
                             not_before=NOW + datetime.timedelta(days=2),
                             not_after=NOW + datetime.timedelta(days=30))
    decision, _ = tap(badge_rig, request, policy(facility_ca, str(card)))
    assert not decision.granted
    assert "not valid before" in decision.reason


def test_deny_bad_signature_of_a_cloned_badge(badge_rig: BadgeFactory,
                                              facility_ca: CertificateAuthority) -> None:
    """A clone: the enrolled card's CHUID and certificate copied, but its own key pair."""
    card = uuid.uuid4()
    original = personalize(MemoryStore().namespace("access"),
                           facility_badge(facility_ca, card_uuid=card))
    clone_store = MemoryStore()
    personalize(clone_store.namespace("access"), facility_badge(facility_ca, card_uuid=card))
    clone_store.namespace("access").set(
        "cak.cert", original.certificate.public_bytes(serialization.Encoding.DER))
    decision, _ = tap(badge_rig, None, policy(facility_ca, str(card)), clone_store)
    assert not decision.granted
    assert "signature does not verify" in decision.reason


def test_deny_chuid_that_names_another_card(badge_rig: BadgeFactory,
                                            facility_ca: CertificateAuthority) -> None:
    """Enrolled UUID written into the CHUID of a card whose certificate names another UUID."""
    enrolled = uuid.uuid4()
    store = MemoryStore()
    badge = personalize(store.namespace("access"), facility_badge(facility_ca))
    forged = Chuid(badge.chuid.fascn, enrolled.bytes, badge.chuid.expiration)
    store.namespace("access").set("chuid", forged.encode())
    decision, _ = tap(badge_rig, None, policy(facility_ca, str(enrolled)), store)
    assert not decision.granted
    assert "CHUID names another card" in decision.reason


def test_deny_certificate_without_card_authentication_purpose(
        badge_rig: BadgeFactory, facility_ca: CertificateAuthority,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import hcekit_access.badge as badge_module

    card = uuid.uuid4()
    monkeypatch.setattr(badge_module, "OID_PIV_CARD_AUTH_EKU", "1.3.6.1.5.5.7.3.2")
    decision, _ = tap(badge_rig, facility_badge(facility_ca, card_uuid=card),
                      policy(facility_ca, str(card)))
    assert not decision.granted
    assert "not for card authentication" in decision.reason


def test_deny_a_card_without_piv() -> None:
    rig = loopback_rig([])
    with rig.terminal.tap():
        decision = decide(rig.terminal, DoorPolicy.test())
    assert not decision.granted
    assert "no PIV application" in decision.reason
    assert decision.identifier is None


def test_test_mode_grants_test_badges(badge_rig: BadgeFactory) -> None:
    decision, _ = tap(badge_rig, None, DoorPolicy.test())
    assert decision.granted
    assert "TEST mode" in decision.reason


def test_fixed_bad_challenge_size_is_refused_by_the_card(badge_rig: BadgeFactory) -> None:
    rig, _ = badge_rig()
    with rig.terminal.tap():
        decision = decide(rig.terminal, DoorPolicy.test(), challenge=bytes(31))
    assert not decision.granted
    assert "refused to sign" in decision.reason


def test_issue_certificate_helper_is_what_personalize_uses(
        facility_ca: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue_certificate(facility_badge(facility_ca), key, uuid.uuid4())
    cert.verify_directly_issued_by(facility_ca.cert)


# -- the script, as hcekit demo / hcekit tap run it ------------------------------------


def run_script(rig_terminal: object, options: dict[str, str],
               extras: dict[str, object] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    ctx = ScriptContext(rig_terminal, options, out, extras or {})  # type: ignore[arg-type]
    with ctx.terminal.tap():  # as hcekit demo / hcekit tap do
        status = DOOR_SCRIPT.run(ctx)
    return status, out.getvalue()


def test_script_is_a_demo_and_grants_in_test_mode(badge_rig: BadgeFactory) -> None:
    assert DOOR_SCRIPT.demo
    rig, _ = badge_rig()
    status, text = run_script(rig.terminal, {})
    assert status == 0
    assert "TEST CA" in text and "GRANT" in text


def test_script_with_trust_file_and_allow_file(badge_rig: BadgeFactory, tmp_path: Path,
                                               facility_ca: CertificateAuthority) -> None:
    card = uuid.uuid4()
    rig, _ = badge_rig(facility_badge(facility_ca, card_uuid=card))
    trust = tmp_path / "trust.pem"
    trust.write_bytes(facility_ca.cert.public_bytes(serialization.Encoding.PEM))
    allow = tmp_path / "allow.txt"
    allow.write_text(f"# staff\nurn:uuid:{card}  # Alice\n")
    status, text = run_script(rig.terminal, {"trust": str(trust), "allow-file": str(allow)})
    assert status == 0, text
    assert f"GRANT {card}" in text
    status, text = run_script(rig.terminal, {"trust": str(trust), "allow": str(uuid.uuid4())})
    assert status == 1
    assert f"DENY {card}: authenticated, but not on the allow-list" in text


def test_script_fails_closed_when_the_card_vanishes(badge_rig: BadgeFactory) -> None:
    class Vanishing:
        name = "vanishing"

        def connect(self) -> None:
            pass

        def disconnect(self) -> None:
            pass

        def transmit(self, command: bytes) -> bytes:
            raise OSError("card removed")

    from hcekit.terminal import Terminal

    status, text = run_script(Terminal(Vanishing()), {})
    assert status == 1
    assert "DENY" in text and "reader error: card removed" in text

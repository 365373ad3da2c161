"""The PIV Card Application subset an access badge needs, as an hcekit plugin.

SELECT answers the application property template; GET DATA serves CHUID,
the Card Authentication certificate, Discovery, Key History and the CCC;
GENERAL AUTHENTICATE signs a reader's challenge with the Card Authentication
key (9E, ECC P-256, no PIN — SP 800-73-4 lets the CAK be used over the
contactless interface without PIN). VERIFY of the PIV PIN is answered so
clients that query it get a standard reply; no object or key of this badge
needs the PIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hcekit import (
    SW,
    AidKind,
    AppContext,
    Card,
    Category,
    Claim,
    CommandApdu,
    IsoError,
    PluginContext,
    hookimpl,
    tlv,
)
from hcekit.logs import get_logger

from .piv import PIV_AID, PIV_ATR, Alg, Ins, KeyRef, ObjectTag, Tag
from .storage import KEY_PIN, KEY_PIN_TRIES, PIN_LENGTH, PIN_TRIES, is_personalized

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hashes
    from hcekit.personalization import Personalization
    from hcekit.store import PluginStore
    from hcekit.terminal.script import TerminalScript

    from .badge import Badge

__all__ = ["AccessPlugin", "challenge_hash"]

log = get_logger("hcekit.plugin.access")

P1P2_GET_DATA = 0x3FFF
P2_SELECT_NO_RESPONSE_DATA = 0x0C
P1_VERIFY = 0x00
P1_VERIFY_RESET = 0xFF
CLA_SECURE_MESSAGING = 0x0C
_VERIFIED = "pin_verified"

def challenge_hash(challenge: bytes) -> hashes.HashAlgorithm:
    """The hash whose digest size *challenge* has; IsoError 6A80 for other sizes.

    ECDSA signs a digest; the reader sends one (SP 800-73-4 Part 2, 3.2.4). Its
    length tells which hash made it, which ECDSA needs to truncate it right.
    """
    from cryptography.hazmat.primitives import hashes

    by_size: dict[int, type[hashes.HashAlgorithm]] = {
        20: hashes.SHA1, 28: hashes.SHA224, 32: hashes.SHA256, 48: hashes.SHA384, 64: hashes.SHA512,
    }
    try:
        return by_size[len(challenge)]()
    except KeyError:
        raise IsoError(SW.INCORRECT_DATA,
                       f"challenge of {len(challenge)} bytes is not a digest size "
                       f"({', '.join(str(n) for n in by_size)})") from None


class AccessPlugin:
    """PIV access badge (Card Authentication). Self-personalizes with the TEST CA when empty."""

    name = "access"
    #: For hcekit's conformance kit: the Ne check reads the Card Authentication certificate
    #: object (GET DATA 5FC101, several hundred bytes).
    conformance = {"reads": [{"aid": PIV_AID.hex(), "read": "00CB3FFF055C035FC101"}]}

    def __init__(self) -> None:
        self._store: PluginStore | None = None
        self._badge: Badge | None = None
        self._objects: dict[int, bytes] = {}
        self._apt = b""

    # -- lifecycle ----------------------------------------------------------------

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        self._store = plugin.store
        if not is_personalized(plugin.store):
            from .badge import personalize

            badge = personalize(plugin.store)
            plugin.log.warning(
                "access badge self-personalized under the TEST CA (card %s); "
                "run 'hcekit access personalize' for a real issuer", badge.identifier)
            self.load(badge)

    def load(self, badge: Badge) -> None:
        """Serve *badge* (after startup or a re-personalization in this process)."""
        from .objects import (
            application_property_template,
            capability_container,
            certificate_object,
            discovery_object,
            key_history_object,
            wrap_object,
        )

        self._badge = badge
        self._apt = application_property_template(badge.label)
        self._objects = {
            ObjectTag.DISCOVERY: discovery_object(),
            ObjectTag.CHUID: wrap_object(badge.chuid.encode()),
            ObjectTag.CARD_AUTHENTICATION_CERT: wrap_object(certificate_object(badge.certificate_der)),
            ObjectTag.KEY_HISTORY: wrap_object(key_history_object()),
            ObjectTag.CARD_CAPABILITY_CONTAINER: wrap_object(capability_container(badge.ccc_card_id)),
        }

    def _loaded(self) -> Badge:
        """The badge, read from the store on first use: parsing its key and certificate
        imports ``cryptography.x509``, which a card answering another AID never needs."""
        if self._badge is None:
            from .badge import load_badge

            badge = load_badge(self._store) if self._store is not None else None
            if badge is None:
                raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "badge not personalized")
            self.load(badge)
        assert self._badge is not None
        return self._badge

    @property
    def badge(self) -> Badge | None:
        return self._loaded() if self._store is not None else self._badge

    @hookimpl
    def hcekit_atr(self, card: Card) -> bytes:
        """The PIV ATR, so OpenSC's PIV driver recognises the badge without probing."""
        return PIV_ATR

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> Sequence[Claim]:
        # Subset claim: the full AID and every truncation down to the RID, so
        # version-agnostic SELECTs (A0 00 00 03 08 [00 00 10 00]) reach us.
        return [Claim(PIV_AID, Category.OTHER, "PIV Card Application (access badge)",
                      AidKind.SUBSET)]

    # -- APDUs ------------------------------------------------------------------------

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes | None:
        self._loaded()
        if command.p2 & P2_SELECT_NO_RESPONSE_DATA == P2_SELECT_NO_RESPONSE_DATA:
            return None
        return self._apt

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | None:
        if command.cla & 0x80:
            raise IsoError(SW.CLA_NOT_SUPPORTED, "PIV commands use an interindustry class")
        if command.cla & CLA_SECURE_MESSAGING:
            raise IsoError(SW.SECURE_MESSAGING_NOT_SUPPORTED,
                           "secure messaging (PIV VCI) is not offered by this badge")
        ins = command.ins
        if ins == Ins.GET_DATA:
            return self._get_data(command)
        if ins == Ins.GENERAL_AUTHENTICATE:
            return self._general_authenticate(app, command)
        if ins == Ins.VERIFY:
            return self._verify(app, command)
        raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {ins:02X} is not part of this PIV subset")

    def _get_data(self, command: CommandApdu) -> bytes:
        if (command.p1 << 8) | command.p2 != P1P2_GET_DATA:
            raise IsoError(SW.INCORRECT_P1P2, "PIV GET DATA takes P1-P2 = 3FFF")
        try:
            tag_list, end = tlv.parse_one(command.data)
        except tlv.TlvError as exc:
            raise IsoError(SW.INCORRECT_DATA, f"GET DATA tag list: {exc.message}") from None
        if tag_list.tag != Tag.TAG_LIST or end != len(command.data) \
                or not 1 <= len(tag_list.value) <= 3:
            raise IsoError(SW.INCORRECT_DATA, "GET DATA wants 5C with a 1–3 byte object tag")
        wanted = int.from_bytes(tag_list.value, "big")
        found = self._objects.get(wanted)
        if found is None:
            raise IsoError(SW.FILE_NOT_FOUND, f"no data object {wanted:X} on this badge")
        return found

    def _general_authenticate(self, app: AppContext, command: CommandApdu) -> bytes:
        app.mark_sensitive()
        badge = self._loaded()
        if command.p2 != KeyRef.CARD_AUTHENTICATION:
            raise IsoError(SW.INCORRECT_P1P2,
                           f"key reference {command.p2:02X}: this badge has only the "
                           "Card Authentication key (9E)")
        if command.p1 != Alg.ECC_P256:
            raise IsoError(SW.INCORRECT_P1P2,
                           f"algorithm {command.p1:02X}: key 9E is ECC P-256 (11)")
        try:
            template, end = tlv.parse_one(command.data)
            if template.tag != Tag.DYNAMIC_AUTHENTICATION_TEMPLATE or end != len(command.data):
                raise IsoError(SW.INCORRECT_DATA, "expected one dynamic authentication template 7C")
            items = template.children()
        except tlv.TlvError as exc:
            raise IsoError(SW.INCORRECT_DATA, f"dynamic authentication template: {exc.message}") \
                from None
        fields: dict[int, bytes] = {}
        for item in items:
            if item.tag in fields:
                raise IsoError(SW.INCORRECT_DATA, f"tag {item.tag:X} twice in the template")
            fields[item.tag] = item.value
        if set(fields) != {Tag.CHALLENGE, Tag.RESPONSE} or fields[Tag.RESPONSE]:
            raise IsoError(SW.INCORRECT_DATA,
                           "key 9E answers internal authentication only: 7C { 81 challenge, 82 empty }")
        challenge = fields[Tag.CHALLENGE]
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        signature = badge.private_key.sign(
            challenge, ec.ECDSA(utils.Prehashed(challenge_hash(challenge))))
        return tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, [tlv.encode(Tag.RESPONSE, signature)])

    def _verify(self, app: AppContext, command: CommandApdu) -> bytes | None:
        app.mark_sensitive()
        if command.p1 not in (P1_VERIFY, P1_VERIFY_RESET):
            raise IsoError(SW.INCORRECT_P1P2, "VERIFY P1 is 00 (verify) or FF (reset)")
        if command.p2 != KeyRef.PIV_PIN:
            raise IsoError(SW.REFERENCED_DATA_NOT_FOUND,
                           f"key reference {command.p2:02X}: only the PIV PIN (80) exists")
        if command.p1 == P1_VERIFY_RESET:
            if command.data:
                raise IsoError(SW.WRONG_LENGTH, "VERIFY with P1=FF carries no data")
            app.session.pop(_VERIFIED, None)
            return None
        store = app.store
        tries = store.get_int(KEY_PIN_TRIES)
        if not command.data:
            if app.session.get(_VERIFIED):
                return None
            if tries <= 0:
                raise IsoError(SW.AUTHENTICATION_METHOD_BLOCKED, "PIN blocked")
            raise IsoError(SW.VERIFICATION_FAILED | 0xC0 | min(tries, 15), "PIN not verified")
        if len(command.data) != PIN_LENGTH:
            raise IsoError(SW.INCORRECT_DATA, "the PIN is sent as 8 bytes padded with FF")
        from hcekit.sm import tags_equal

        # The retry counter is read and written in one transaction: two cards serving one
        # store (or a stale copy) can never both spend the same try.
        with store.transaction():
            tries = store.get_int(KEY_PIN_TRIES)
            blocked = tries <= 0
            matched = not blocked and tags_equal(command.data, store.get(KEY_PIN) or b"")
            if not blocked:
                tries = PIN_TRIES if matched else tries - 1
                store.set_int(KEY_PIN_TRIES, tries)
        if blocked:
            raise IsoError(SW.AUTHENTICATION_METHOD_BLOCKED, "PIN blocked")
        if matched:
            app.session[_VERIFIED] = True
            return None
        app.session.pop(_VERIFIED, None)
        if tries <= 0:
            raise IsoError(SW.AUTHENTICATION_METHOD_BLOCKED, "wrong PIN; now blocked")
        raise IsoError(SW.VERIFICATION_FAILED | 0xC0 | tries, "wrong PIN")

    # -- observers -------------------------------------------------------------------

    @hookimpl
    def hcekit_personalization(self) -> Personalization[Any]:
        from .cli import PERSONALIZATION

        return PERSONALIZATION

    @hookimpl
    def hcekit_terminal_scripts(self) -> Sequence[TerminalScript]:
        from .door import DOOR_SCRIPT

        return [DOOR_SCRIPT]

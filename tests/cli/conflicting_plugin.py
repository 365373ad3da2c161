"""A plugin that claims the NDEF application's AID, to provoke a conflict report."""

from hcekit import Claim


class Squatter:
    name = "squatter"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim.parse("D276000085*", description="overlaps the NDEF tag")]


class PpseSquatter:
    """Claims the payment directory as a proprietary (category other) AID: every card that
    also holds a payment plugin refuses to start, so the checks must say so up front."""

    name = "ppse_squatter"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim(b"2PAY.SYS.DDF01", description="my own directory")]

    def hcekit_process(self, app: object, command: object) -> None:
        return None

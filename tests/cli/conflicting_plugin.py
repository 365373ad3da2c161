"""A plugin that claims the NDEF application's AID, to provoke a conflict report."""

from hcekit import Claim


class Squatter:
    name = "squatter"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim.parse("D276000085*", description="overlaps the NDEF tag")]

"""Test fixture on top of the shipped eMRTD personality: any keys, any suite, any files.

:class:`ProtectedFiles` is :class:`hcekit_mrtd.MrtdPlugin` (same access
rules, same SELECT EF / READ BINARY, same use of the core's secure channel
seam) with three test-only changes: the mutual-authentication keys and
profile are given directly (so AES sessions can be exercised, not only BAC),
the files are arbitrary, and a proprietary echo INS answers with or without
a session (the baseline for tests and ``benchmarks/sm_throughput.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from hcekit import AppContext, CommandApdu, PluginContext, ResponseApdu
from hcekit.sm import AuthProfile, CardAuthenticator, is_protected
from hcekit_mrtd import EMRTD_AID, MrtdPlugin
from hcekit_mrtd.lds import ElementaryFile

__all__ = ["EMRTD_AID", "INS_ECHO", "ProtectedFiles", "fixed_random"]

#: Proprietary echo, served with or without a session (benchmarks, tests).
INS_ECHO = 0x01


def fixed_random(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that replays *chunks* in order (for published worked examples)."""
    queue: Iterator[bytes] = iter(chunks)

    def take(n: int) -> bytes:
        chunk = next(queue)
        assert len(chunk) == n, f"worked example supplies {len(chunk)} bytes, {n} requested"
        return chunk

    return take


class ProtectedFiles(MrtdPlugin):
    """The eMRTD plugin with test keys, a chosen profile, arbitrary files and an echo INS."""

    name = "smfiles"

    def __init__(self, profile: AuthProfile, k_enc: bytes, k_mac: bytes,
                 files: Mapping[int, bytes], *,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(random=random)
        self.profile = profile
        self._keys = (k_enc, k_mac)
        self.files = {fid: ElementaryFile(fid, 0, f"EF {fid:04X}", content)
                      for fid, content in files.items()}

    def hcekit_startup(self, plugin: PluginContext) -> None:
        """Nothing to personalize: keys and files come from the test."""

    def authenticator(self) -> CardAuthenticator:
        return CardAuthenticator(self.profile, *self._keys, random=self._random)

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
        if command.ins == INS_ECHO and (app.secure_channel or not is_protected(command)):
            return command.data
        return super().hcekit_process(app, command)

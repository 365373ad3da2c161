"""Tearing-test worker: standard Aliro transactions against a credential on SQLite, forever.

Run by tests/aliro/test_tearing.py, which SIGKILLs it at random moments —
often inside AUTH1, while the credential stores the reader's Kpersistent.
Prints ``ready``, then per transaction ``begin N`` before AUTH1 and
``committed N DIGEST`` after it returned (N = reader number, DIGEST = the first
8 bytes of SHA-256 of the Kpersistent the reader derived; the key itself is
never printed).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.store import SqliteStore
from hcekit.testing.loopback import loopback_rig
from hcekit_aliro import AliroPlugin
from reader_side import Reader

READERS = 40   # more than the credential's cache (32): evictions happen too
GROUP = hashlib.sha256(b"tests/aliro tearing group").digest()[:16]


def reader_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(hashlib.sha256(b"tearing reader").digest(), "big"),
                                 ec.SECP256R1())


def main(path: str) -> None:
    rig = loopback_rig([AliroPlugin()], store=SqliteStore(path))
    key = reader_key()
    print("ready", flush=True)
    n = 0
    while True:
        index = n % READERS
        reader = Reader(rig.terminal, GROUP, index.to_bytes(16, "big"), key, tool_vectors=False)
        with rig.terminal.tap():
            assert reader.select().sw == 0x9000
            assert reader.auth0().sw == 0x9000
            print(f"begin {index}", flush=True)
            response, _ = reader.auth1()
            assert response.sw == 0x9000, f"{response.sw:04X}"
        kp = reader.cache[reader.endpoint_public]
        print(f"committed {index} {hashlib.sha256(kp).hexdigest()[:16]}", flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1])

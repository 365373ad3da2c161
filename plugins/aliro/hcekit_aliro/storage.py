"""Where the credential lives in the plugin store, and the options that personalise it.

Light on purpose (the cold-start rule in ``docs/plugin-authoring.md``): the
plugin declares its options and checks its store with this module alone;
:mod:`.credential` and the applet, which need the P-256 and certificate
code, are imported when a store is personalised or a reader selects Aliro.
"""

from __future__ import annotations

from hcekit.options import OptionGroup
from hcekit.store import PluginStore

__all__ = ["KEY_ENDPOINT", "KEY_CONFIG", "KEY_INDEX", "KEY_PERSISTENT_PREFIX", "KEY_MAILBOX",
           "KEY_DOCUMENT", "KEY_REVOCATION", "add_options", "is_personalised"]

KEY_ENDPOINT = "endpoint_private_key"
KEY_CONFIG = "config"
KEY_INDEX = "kpersistent_index"
KEY_PERSISTENT_PREFIX = "kpersistent/"
KEY_MAILBOX = "mailbox"
KEY_DOCUMENT = "access_document"
KEY_REVOCATION = "revocation_document"


def is_personalised(store: PluginStore) -> bool:
    return KEY_ENDPOINT in store


def add_options(options: OptionGroup) -> None:
    """The options that personalise an empty store on first start (``--option aliro.KEY=…``)."""
    options.add("group", type=bytes, help="reader group identifier, 16 bytes hex "
                "(default: the public TEST group)")
    options.add("reader_key", type=bytes, help="the readers' P-256 verification key, "
                "uncompressed point hex (04…)")
    options.add("issuer_key", type=bytes, help="the reader-system issuer's P-256 key, "
                "uncompressed point hex, for reader certificates")
    options.add("documents", type=bool, default=True,
                help="provision the TEST-signed Access and Revocation Documents")
    options.add("mailbox_write", type=bool, default=True, help="let readers write the mailbox")

"""Run emvtool (PyPI ``emv``) on the pyscard this project uses.

emv pins pyscard 2.0.0, whose connection decorator still carried the
protocol constants (``connection.T0_protocol``); pyscard 2.1+ keeps them on
``CardConnection`` only. This test-side shim puts them back on the decorator
and then runs emvtool's own command line unchanged:

    python emvtool_shim.py -r 0 listapps
"""

from __future__ import annotations

from smartcard.CardConnection import CardConnection
from smartcard.CardConnectionDecorator import CardConnectionDecorator

for _name in ("T0_protocol", "T1_protocol", "RAW_protocol"):
    if not hasattr(CardConnectionDecorator, _name):
        setattr(CardConnectionDecorator, _name, getattr(CardConnection, _name))

if __name__ == "__main__":
    from emv.command.client import run

    run()

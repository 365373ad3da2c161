"""Tearing-test worker: fare transactions against the card on a SQLite store, forever.

Run by tests/transit/test_tearing.py, which SIGKILLs it at random moments.
Prints ``ready`` once the card is up, then ``committed N`` after each
CommitTransaction returned (N counts this process's commits).
"""

from __future__ import annotations

import sys

from hcekit.store import SqliteStore
from hcekit.testing.loopback import loopback_rig
from hcekit_transit import TRANSIT_AID, TRANSIT_DF_NAME, IssuerKeys, TransitPlugin
from hcekit_transit.layout import FILE_LOG, FILE_PURSE, FILE_TRIP
from hcekit_transit.model import CommMode
from hcekit_transit.reader import DesfireReader
from hcekit_transit.records import LogRecord, LogType, TripState

FARE = 7


def main(path: str) -> None:
    store = SqliteStore(path)
    rig = loopback_rig([TransitPlugin()], store=store)
    keys = IssuerKeys.test_keys()
    reader = DesfireReader(rig.terminal)
    print("ready", flush=True)
    committed = 0
    while True:
        with rig.terminal.tap():
            reader.select(TRANSIT_DF_NAME)
            uid = reader.uid()
            reader.authenticate(1, keys.role_key("validator", uid, TRANSIT_AID))
            trip = TripState.decode(reader.read_data(FILE_TRIP, 0, 0, CommMode.MACED))
            balance = reader.get_value(FILE_PURSE, CommMode.MACED)
            counter = trip.counter + 1
            reader.debit(FILE_PURSE, FARE, CommMode.MACED)
            reader.write_data(FILE_TRIP, 0, TripState(False, 0, 0, 1, counter, counter).encode(),
                              CommMode.MACED)
            reader.write_record(FILE_LOG, 0, LogRecord(LogType.TAP_OUT, 1, counter, -FARE,
                                                       balance - FARE, counter).encode(),
                                CommMode.MACED)
            reader.commit()
        committed += 1
        print(f"committed {committed}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

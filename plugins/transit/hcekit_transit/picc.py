"""A DESFire EV1 PICC in native frames: commands in, (status, data) out. No I/O.

:class:`DesfireCard` is the card side of the EV1 protocol for AES-128 keys.
It only routes; each concept lives in its own module:

* :mod:`.framing` — answers and commands longer than one frame (AF);
* :mod:`.session` — AuthenticateAES and EV1 secure messaging;
* :mod:`.access` — key settings and file access rights;
* :mod:`.levels` — the PICC level and applications behind one interface;
* :mod:`.card_commands`, :mod:`.key_commands`, :mod:`.file_commands` — the
  PICC, key and file-management commands;
* :mod:`.data_files`, :mod:`.value_files`, :mod:`.record_files` — the
  file types;
* :mod:`.transaction`, :mod:`.commit` — the EV1 transaction (backup, value
  and record files change only on CommitTransaction).

Each command runs inside one store transaction: the selected level is read
from the store there and every change is written in the same transaction, so
nothing the card remembers between commands can overwrite a newer commit.
Session rules kept from EV1: every error status ends the authentication and
discards the pending transaction; SelectApplication and a new Authenticate
end the authentication. The ISO/IEC 7816-4 wrapping (CLA 90, SW 91xx) is the
plugin's job.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from hcekit.errors import StoreError
from hcekit.logs import get_logger

from . import card_commands as card
from . import commit as txn
from . import data_files, file_commands, key_commands, record_files, value_files
from .access import expected_mode
from .card_commands import VERSION_HW, VERSION_SW
from .context import CommandContext, Handler, Reply
from .crypto import MAC_LENGTH
from .data_files import WRITE_HEADER
from .framing import FRAME_SIZE, MAX_COMMAND, Frames
from .instructions import Ins
from .levels import load_level
from .model import PICC_AID, CommMode
from .persist import CardStore
from .session import Session, enciphered_length
from .status import DesfireError, DfStatus
from .transaction import PendingChanges

__all__ = ["DesfireCard", "Ins", "FRAME_SIZE", "VERSION_HW", "VERSION_SW", "HANDLERS"]

log = get_logger(__name__)

#: Every native command the card answers, and the function that answers it.
HANDLERS: dict[int, Handler] = {
    Ins.GET_VERSION: card.get_version,
    Ins.GET_CARD_UID: card.get_card_uid,
    Ins.FREE_MEMORY: card.free_memory,
    Ins.FORMAT_PICC: card.format_picc,
    Ins.SELECT_APPLICATION: card.select_application,
    Ins.GET_APPLICATION_IDS: card.get_application_ids,
    Ins.CREATE_APPLICATION: card.create_application,
    Ins.DELETE_APPLICATION: card.delete_application,
    Ins.AUTHENTICATE_AES: key_commands.authenticate,
    Ins.GET_KEY_SETTINGS: key_commands.get_key_settings,
    Ins.CHANGE_KEY_SETTINGS: key_commands.change_key_settings,
    Ins.GET_KEY_VERSION: key_commands.get_key_version,
    Ins.CHANGE_KEY: key_commands.change_key,
    Ins.GET_FILE_IDS: file_commands.get_file_ids,
    Ins.GET_FILE_SETTINGS: file_commands.get_file_settings,
    Ins.CREATE_STD_DATA_FILE: file_commands.create_data_file,
    Ins.CREATE_BACKUP_DATA_FILE: file_commands.create_data_file,
    Ins.CREATE_VALUE_FILE: file_commands.create_value_file,
    Ins.CREATE_LINEAR_RECORD_FILE: file_commands.create_record_file,
    Ins.CREATE_CYCLIC_RECORD_FILE: file_commands.create_record_file,
    Ins.DELETE_FILE: file_commands.delete_file,
    Ins.READ_DATA: data_files.read_data,
    Ins.WRITE_DATA: data_files.write_data,
    Ins.GET_VALUE: value_files.get_value,
    Ins.CREDIT: value_files.change_value,
    Ins.DEBIT: value_files.change_value,
    Ins.LIMITED_CREDIT: value_files.change_value,
    Ins.WRITE_RECORD: record_files.write_record,
    Ins.READ_RECORDS: record_files.read_records,
    Ins.CLEAR_RECORD_FILE: record_files.clear_record_file,
    Ins.COMMIT_TRANSACTION: txn.commit,
    Ins.ABORT_TRANSACTION: txn.abort,
}
#: Commands readers send in several frames when long (the first frame announces the length).
_FRAMED_WRITES = (Ins.WRITE_DATA, Ins.WRITE_RECORD)


class DesfireCard:
    """The PICC: routing, the volatile session, and the store its state lives in."""

    def __init__(self, store: CardStore, *, random: Callable[[int], bytes] = os.urandom) -> None:
        self._store = store
        self._random = random
        self.session = Session()
        self.frames = Frames()
        self.pending = PendingChanges()
        self.selected = PICC_AID

    # -- what the plugin asks -------------------------------------------------------------

    def reset(self) -> None:
        """Field lost or application deselected: back to the PICC level, nothing pending."""
        self.selected = PICC_AID
        self._end_session()

    def select(self, aid: bytes) -> None:
        """Select an application (or the PICC level) as SelectApplication does."""
        load_level(self._store, aid)  # APPLICATION_NOT_FOUND for an unknown one
        self.reset()
        self.selected = aid

    def random(self, length: int) -> bytes:
        return self._random(length)

    def find_df_name(self, df_name: bytes) -> bytes | None:
        """The AID of the application created with ISO DF name *df_name*."""
        for app in self._store.apps().values():
            if app.df_name and app.df_name == df_name:
                return app.aid
        return None

    @property
    def uid(self) -> bytes:
        return self._store.picc().uid

    @property
    def authenticated_key(self) -> int | None:
        return self.session.key_no

    @property
    def transaction_pending(self) -> bool:
        return bool(self.pending)

    # -- the exchange ---------------------------------------------------------------------

    def process(self, ins: int, data: bytes) -> tuple[int, bytes]:
        """One native command → (status byte, response data). Never raises DesfireError."""
        if ins == Ins.ADDITIONAL_FRAME:
            return self._additional_frame(data)
        self.frames.clear()
        self.session.cancel_authentication()
        handler = HANDLERS.get(ins)
        if handler is None:
            self._end_session()
            return DfStatus.ILLEGAL_COMMAND, b""
        return self._guarded(lambda: self._start(handler, ins, data))

    def _start(self, handler: Handler, ins: int, data: bytes) -> Reply | None:
        """Run the command, or (a long write announced in its first frame) wait for the rest."""
        if ins in _FRAMED_WRITES:
            expected = self._write_length(data)
            if expected > len(data):
                self.frames.start_receiving(ins, data, expected)
                return None
        return self._in_transaction(handler, ins, data)

    def _additional_frame(self, data: bytes) -> tuple[int, bytes]:
        if self.frames.sending:
            return self.frames.next()
        if self.session.authenticating:
            return self._guarded(lambda: self.session.answer(data))
        if self.frames.receiving:
            return self._guarded(lambda: self._receive(data))
        self._end_session()
        return DfStatus.ILLEGAL_COMMAND, b""

    def _receive(self, data: bytes) -> Reply | None:
        complete = self.frames.receive(data)
        if complete is None:
            return None
        ins, whole = complete
        return self._in_transaction(HANDLERS[ins], ins, whole)

    def _write_length(self, data: bytes) -> int:
        """Bytes a WriteData/WriteRecord needs in all (EV1 readers send long ones in frames)."""
        files = load_level(self._store, self.selected).files
        f = files.get(data[0]) if len(data) >= WRITE_HEADER else None
        if f is None:
            return 0  # the handler answers the precise error
        length = int.from_bytes(data[4:7], "little")
        mode = expected_mode(self.session, f, (f.access.write, f.access.read_write))
        overhead = {CommMode.PLAIN: length, CommMode.MACED: length + MAC_LENGTH,
                    CommMode.FULL: enciphered_length(length)}[mode]
        return min(WRITE_HEADER + overhead, MAX_COMMAND)

    def _in_transaction(self, handler: Handler, ins: int, data: bytes) -> Reply:
        with self._store.transaction():
            level = load_level(self._store, self.selected)
            return handler(CommandContext(ins, data, level, self.session, self.pending,
                                          self._store, self))

    def _guarded(self, answer: Callable[[], Reply | None]) -> tuple[int, bytes]:
        """Run *answer*; an error status (or a store failure) ends the session."""
        try:
            out = answer()
        except DesfireError as exc:
            self._end_session()
            return exc.status, b""
        except StoreError as exc:
            log.error("transit: the store failed; answering EEPROM error: %s", exc)
            self._end_session()
            return DfStatus.EEPROM_ERROR, b""
        except BaseException:
            self._end_session()
            raise
        if out is None:
            return DfStatus.ADDITIONAL_FRAME, b""
        if isinstance(out, list):
            return self.frames.send_framed(out)
        if self.session.authenticating:  # AuthenticateAES: the reader's token comes next
            return DfStatus.ADDITIONAL_FRAME, out
        return self.frames.split(out)

    def _end_session(self) -> None:
        self.session.end()
        self.frames.clear()
        self.pending.clear()

"""Reader side of DESFire EV1 over ISO/IEC 7816-4 wrapping: what a validator sends.

:class:`DesfireReader` drives any :class:`hcekit.terminal.Terminal`
(loopback or PC/SC): ISO SELECT, AES authentication, and the file commands
in plain, MACed or fully enciphered mode, keeping the session IV in step
with the card exactly as :class:`~hcekit_transit.picc.DesfireCard` does.
Errors raise :class:`ReaderError` carrying the card's DESFire status.
"""

from __future__ import annotations

import os

from hcekit import SW, CommandApdu
from hcekit.sm import zero_pad
from hcekit.terminal import Terminal, TerminalError

from .crypto import (
    BLOCK,
    MAC_LENGTH,
    ZERO_IV,
    SessionCipher,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    crc32,
    rotate_left,
    session_key,
    tags_equal,
)
from .instructions import SENSITIVE_INS, Ins
from .model import CommMode
from .status import DESFIRE_SW1, DfStatus

__all__ = ["DesfireReader", "ReaderError"]

MAX_FRAMES = 64


class ReaderError(TerminalError):
    """The card answered a DESFire error status (or its answer did not verify)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


class DesfireReader:
    def __init__(self, terminal: Terminal, *, frame_size: int | None = None) -> None:
        self.terminal = terminal
        #: Send command data in native frames of at most this many bytes (91AF between
        #: them), as readers limited to short frames do; None: one wrapped APDU.
        self.frame_size = frame_size
        self._cipher: SessionCipher | None = None
        self.key_no: int | None = None

    @property
    def authenticated(self) -> bool:
        return self._cipher is not None

    # -- transport -----------------------------------------------------------------------

    def select(self, df_name: bytes) -> None:
        """ISO SELECT by DF name (the PICC level or an application); ends any session."""
        self._cipher = None
        response = self.terminal.select(df_name)
        if response.sw != SW.NO_ERROR:
            raise ReaderError(f"SELECT {df_name.hex().upper()}: {response.sw:04X}")

    def exchange(self, ins: int, data: bytes = b"") -> tuple[int, bytes]:
        """One wrapped command, following 91AF frames (not for authentication)."""
        size = self.frame_size
        if size is not None and len(data) > size:
            status, out = self._wire(ins, data[:size])
            rest = data[size:]
            while rest and status == DfStatus.ADDITIONAL_FRAME:
                status, out = self._wire(Ins.ADDITIONAL_FRAME, rest[:size])
                rest = rest[size:]
            if rest:
                self._cipher = None
                raise ReaderError(f"command {ins:02X}: card answered 91{status:02X} mid-command",
                                  status)
        else:
            status, out = self._wire(ins, data)
        collected = bytearray(out)
        frames = 0
        while status == DfStatus.ADDITIONAL_FRAME:
            frames += 1
            if frames > MAX_FRAMES:
                raise ReaderError("card keeps answering 91AF")
            status, out = self._wire(Ins.ADDITIONAL_FRAME, b"")
            collected += out
        if status != DfStatus.OPERATION_OK:
            self._cipher = None
            name = DfStatus(status).name if status in DfStatus._value2member_map_ else "?"
            raise ReaderError(f"command {ins:02X}: card answered 91{status:02X} {name}", status)
        return status, bytes(collected)

    def _wire(self, ins: int, data: bytes) -> tuple[int, bytes]:
        session = self._cipher is not None
        response = self.terminal.transmit(CommandApdu(0x90, ins, 0, 0, data, 256))
        if ins in SENSITIVE_INS or session:  # redacted over a reader as the card redacts it
            self.terminal.mark_sensitive()
        if response.sw1 != DESFIRE_SW1:
            self._cipher = None
            raise ReaderError(f"command {ins:02X}: not a DESFire answer ({response.sw:04X})")
        return response.sw2, response.data

    # -- secure messaging ---------------------------------------------------------------------

    def command(self, ins: int, header: bytes = b"", payload: bytes = b"", *,
                tx: CommMode = CommMode.PLAIN, rx: CommMode = CommMode.PLAIN,
                rx_length: int | None = None) -> bytes:
        """Send ``ins header payload`` protected as *tx*; return the verified response data.

        *rx_length* is the plain length of an enciphered answer (None: find it by the CRC).
        """
        cipher = self._cipher
        head = bytes((ins,)) + header
        if cipher is None or tx is CommMode.PLAIN:
            if cipher is not None:
                cipher.cmac(head + payload)
            body = header + payload
        elif tx is CommMode.MACED:
            body = header + payload + cipher.mac(head + payload)
        else:
            body = header + cipher.encrypt(zero_pad(payload + crc32(head + payload), BLOCK))
        _, out = self.exchange(ins, body)
        if cipher is None or self._cipher is None:
            return out
        if rx is CommMode.FULL:
            return self._decipher(cipher, out, rx_length)
        if len(out) < MAC_LENGTH:
            raise ReaderError(f"answer to {ins:02X} lacks its MAC")
        data, mac = out[:-MAC_LENGTH], out[-MAC_LENGTH:]
        if not tags_equal(cipher.mac(data + b"\x00"), mac):
            self._cipher = None
            raise ReaderError(f"answer to {ins:02X}: response MAC does not verify")
        return data

    def _decipher(self, cipher: SessionCipher, out: bytes, length: int | None) -> bytes:
        if not out or len(out) % BLOCK:
            raise ReaderError(f"enciphered answer of {len(out)} bytes")
        plain = cipher.decrypt(out)
        candidates = [length] if length is not None else range(len(plain) - 4, -1, -1)
        for n in candidates:
            if n < 0 or n + 4 > len(plain) or any(plain[n + 4:]):
                continue
            if tags_equal(plain[n:n + 4], crc32(plain[:n] + b"\x00")):
                return plain[:n]
        self._cipher = None
        raise ReaderError("enciphered answer: CRC32 does not verify")

    # -- authentication -------------------------------------------------------------------------

    def authenticate(self, key_no: int, key: bytes) -> None:
        """EV1 AES three-pass authentication; afterwards commands use the session."""
        self._cipher = None
        self.key_no = None
        status, challenge = self._wire(Ins.AUTHENTICATE_AES, bytes((key_no,)))
        if status != DfStatus.ADDITIONAL_FRAME or len(challenge) != BLOCK:
            raise ReaderError(f"AuthenticateAES key {key_no}: card answered 91{status:02X}",
                              status)
        rnd_b = aes_cbc_decrypt(key, ZERO_IV, challenge)
        rnd_a = os.urandom(BLOCK)
        token = aes_cbc_encrypt(key, challenge, rnd_a + rotate_left(rnd_b))
        status, answer = self._wire(Ins.ADDITIONAL_FRAME, token)
        if status != DfStatus.OPERATION_OK or len(answer) != BLOCK:
            raise ReaderError(f"AuthenticateAES key {key_no}: card answered 91{status:02X}",
                              status)
        if not tags_equal(aes_cbc_decrypt(key, token[-BLOCK:], answer), rotate_left(rnd_a)):
            raise ReaderError("AuthenticateAES: the card does not know the key")
        self._cipher = SessionCipher(session_key(rnd_a, rnd_b))
        self.key_no = key_no

    # -- commands ---------------------------------------------------------------------------------

    def get_version(self) -> bytes:
        return self.command(Ins.GET_VERSION)

    def uid(self) -> bytes:
        """The UID from GetVersion (bytes 14..20)."""
        return self.get_version()[14:21]

    def select_application(self, aid: bytes) -> None:
        self.exchange(Ins.SELECT_APPLICATION, aid)
        self._cipher = None

    def application_ids(self) -> list[bytes]:
        raw = self.command(Ins.GET_APPLICATION_IDS)
        return [raw[i:i + 3] for i in range(0, len(raw), 3)]

    def file_ids(self) -> bytes:
        return self.command(Ins.GET_FILE_IDS)

    def file_settings(self, fid: int) -> bytes:
        return self.command(Ins.GET_FILE_SETTINGS, bytes((fid,)))

    def read_data(self, fid: int, offset: int, length: int, mode: CommMode) -> bytes:
        header = bytes((fid,)) + _u24(offset) + _u24(length)
        return self.command(Ins.READ_DATA, header, rx=mode, rx_length=length or None)

    def write_data(self, fid: int, offset: int, data: bytes, mode: CommMode) -> None:
        header = bytes((fid,)) + _u24(offset) + _u24(len(data))
        self.command(Ins.WRITE_DATA, header, data, tx=mode)

    def get_value(self, fid: int, mode: CommMode) -> int:
        raw = self.command(Ins.GET_VALUE, bytes((fid,)), rx=mode, rx_length=4)
        return int.from_bytes(raw, "little", signed=True)

    def _value(self, ins: int, fid: int, amount: int, mode: CommMode) -> None:
        self.command(ins, bytes((fid,)), amount.to_bytes(4, "little", signed=True), tx=mode)

    def credit(self, fid: int, amount: int, mode: CommMode) -> None:
        self._value(Ins.CREDIT, fid, amount, mode)

    def debit(self, fid: int, amount: int, mode: CommMode) -> None:
        self._value(Ins.DEBIT, fid, amount, mode)

    def limited_credit(self, fid: int, amount: int, mode: CommMode) -> None:
        self._value(Ins.LIMITED_CREDIT, fid, amount, mode)

    def write_record(self, fid: int, offset: int, data: bytes, mode: CommMode) -> None:
        header = bytes((fid,)) + _u24(offset) + _u24(len(data))
        self.command(Ins.WRITE_RECORD, header, data, tx=mode)

    def read_records(self, fid: int, record_size: int, mode: CommMode, offset: int = 0,
                     count: int = 0) -> list[bytes]:
        """Records newest-``offset`` back; returned oldest first, as the card sends them."""
        header = bytes((fid,)) + _u24(offset) + _u24(count)
        raw = self.command(Ins.READ_RECORDS, header, rx=mode,
                           rx_length=count * record_size if count else None)
        return [raw[i:i + record_size] for i in range(0, len(raw), record_size)]

    def commit(self) -> None:
        self.command(Ins.COMMIT_TRANSACTION)

    def abort(self) -> None:
        self.command(Ins.ABORT_TRANSACTION)

    def change_key(self, key_no: int, new_key: bytes, version: int, old_key: bytes | None = None,
                   *, key_byte: int | None = None) -> None:
        """ChangeKey; *old_key* is needed when changing a key other than the session's."""
        assert self._cipher is not None, "ChangeKey needs authentication"
        kb = key_no if key_byte is None else key_byte
        head = bytes((Ins.CHANGE_KEY, kb))
        if key_no == self.key_no:
            body = new_key + bytes((version,))
            body += crc32(head + body)
        else:
            if old_key is None:
                raise ValueError("changing another key needs its current value")
            xored = bytes(a ^ b for a, b in zip(new_key, old_key, strict=True)) + bytes((version,))
            body = xored + crc32(head + xored) + crc32(new_key)
        cipher = self._cipher
        _, out = self.exchange(Ins.CHANGE_KEY, bytes((kb,)) + cipher.encrypt(zero_pad(body, BLOCK)))
        if key_no == self.key_no:
            self._cipher = None
            self.key_no = None
            return
        if not tags_equal(cipher.mac(out[:-MAC_LENGTH] + b"\x00"), out[-MAC_LENGTH:]):
            raise ReaderError("ChangeKey: response MAC does not verify")

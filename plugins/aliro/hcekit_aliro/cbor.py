"""The small CBOR (RFC 8949) subset the step-up documents use, written for this plugin.

Unsigned/negative integers, byte and text strings, arrays, maps, booleans,
null and tags; definite lengths only, shortest-form heads on encoding (the
deterministic encoding of RFC 8949 §4.2.1 except for map-key sorting, which
the documents do not need). :class:`Tagged` carries a tag, e.g. 24 for
"embedded CBOR" (ISO 18013-5's ``#6.24(bstr)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CborError", "Tagged", "dumps", "loads", "embedded"]

_MAX_DEPTH = 16


class CborError(ValueError):
    """Bytes that are not CBOR this decoder accepts."""


@dataclass(frozen=True)
class Tagged:
    tag: int
    value: Any


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major << 5 | n,))
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | info,)) + n.to_bytes(size, "big")
    raise CborError("integer too large for CBOR")


def dumps(value: Any) -> bytes:
    if value is False:
        return b"\xf4"
    if value is True:
        return b"\xf5"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes | bytearray):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(dumps(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(dumps(k) + dumps(v) for k, v in value.items())
    if isinstance(value, Tagged):
        return _head(6, value.tag) + dumps(value.value)
    raise CborError(f"cannot encode {type(value).__name__} as CBOR")


def embedded(value: Any) -> Tagged:
    """``#6.24(bstr .cbor value)``."""
    return Tagged(24, dumps(value))


def loads(data: bytes) -> Any:
    value, end = _decode(bytes(data), 0, 0)
    if end != len(data):
        raise CborError(f"{len(data) - end} trailing bytes after the CBOR item")
    return value


def _decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise CborError("CBOR nested too deeply")
    if pos >= len(data):
        raise CborError("CBOR item truncated")
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    pos += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info], pos
        raise CborError(f"unsupported CBOR simple value/float {first:02X}")
    if info < 24:
        n = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise CborError("CBOR head truncated")
        n = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        raise CborError("indefinite-length or reserved CBOR head")
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        if pos + n > len(data):
            raise CborError("CBOR string truncated")
        raw = data[pos:pos + n]
        if major == 2:
            return raw, pos + n
        try:
            return raw.decode(), pos + n
        except UnicodeDecodeError:
            raise CborError("CBOR text string is not UTF-8") from None
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if major == 5:
        result: dict[Any, Any] = {}
        for _ in range(n):
            key, pos = _decode(data, pos, depth + 1)
            if isinstance(key, list | dict):
                raise CborError("CBOR map key must be a scalar")
            value, pos = _decode(data, pos, depth + 1)
            result[key] = value
        return result, pos
    value, pos = _decode(data, pos, depth + 1)
    return Tagged(n, value), pos

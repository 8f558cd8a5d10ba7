"""Range keys as text that sorts like the numbers, on SQLite and PostgreSQL alike.

A key is one digit for the resource type (``0`` ASN, ``1`` IPv4, ``2`` IPv6) followed by the
number in lower-case hex, 8 digits for ASNs and IPv4 and 32 for IPv6. Keys of one type have one
length, and the type digit comes first, so a plain byte-wise comparison orders keys by type and
then by number: ``lo <= :key AND hi >= :key`` finds containing ranges of the right type without
a type column. (PostgreSQL compares these columns with the "C" collation to stay byte-wise.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, U64, DelegationTable

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
HEX_DIGITS = {ResourceType.ASN: 8, ResourceType.IPV4: 8, ResourceType.IPV6: 32}


def key_of(rtype: ResourceType, number: int) -> str:
    """The key of one number."""
    return f"{TYPE_CODE[rtype]}{number:0{HEX_DIGITS[rtype]}x}"


def number_of(key: str) -> tuple[ResourceType, int]:
    """Inverse of :func:`key_of`."""
    from rirport.domain.enums import RESOURCE_TYPES

    return RESOURCE_TYPES[int(key[0])], int(key[1:], 16)


def table_keys(table: DelegationTable, which: str) -> list[str]:
    """Keys of every row's ``first`` (``which="lo"``) or ``last`` (``"hi"``) number."""
    hi, lo = (table.first_hi, table.first_lo) if which == "lo" else (table.last_hi, table.last_lo)
    return encode_keys(table.type, hi, lo)


def encode_keys(types: npt.NDArray[np.uint8], hi: U64, lo: U64) -> list[str]:
    """Vectorised :func:`key_of`: hex digits built in numpy, split into strings once."""
    n = len(types)
    words = np.empty((n, 2), dtype=">u8")
    words[:, 0] = hi
    words[:, 1] = lo
    octets = words.view(np.uint8).reshape(n, 16)
    chars = np.empty((n, 34), dtype=np.uint8)
    chars[:, 0] = types + ord("0")
    chars[:, 1:33:2] = _HEX[octets >> 4]
    chars[:, 2:33:2] = _HEX[octets & 15]
    chars[:, 33] = ord("\n")
    short = types != TYPE_CODE[ResourceType.IPV6]
    keep = np.ones((n, 34), dtype=bool)
    keep[short, 1:25] = False  # 32-bit numbers keep only their last 8 hex digits
    text = chars[keep].tobytes().decode("ascii")
    return text.split("\n")[:n]


def join_fields(chars: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> list[str]:
    """Rows of a zero-padded byte matrix as Python strings, in one decode and one split."""
    n, width = chars.shape
    buf = np.zeros((n, width + 1), dtype=np.uint8)
    buf[:, :width] = chars
    keep = np.arange(width + 1) <= lengths[:, None]
    buf[np.arange(n), lengths] = ord("\n")
    return buf[keep].tobytes().decode().split("\n")[:n]

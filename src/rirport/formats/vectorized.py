"""Vectorised field readers: many fields of one kind, read from a byte buffer at once.

Each reader takes the fields' bytes as a zero-padded 2-D ``uint8`` matrix (one row per field,
from :func:`gather`) plus their lengths, and returns the values and an ``ok`` mask. ``ok`` is
conservative: a row it clears may still be valid in an unusual spelling (an IPv6 address with an
embedded IPv4 tail, say); the caller passes such rows to the reference reader in
:mod:`rirport.formats.records`, which decides and words the error. So these functions must never
accept what the reference rejects, and may reject what it accepts.
"""

from __future__ import annotations

import functools
import socket

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Ints = npt.NDArray[np.int32] | npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_HEX = np.full(256, 255, dtype=np.uint64)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
_HEX[ord(":")] = 16
_HEX8 = _HEX.astype(np.uint8)
_END, _PAST = np.uint8(17), np.uint8(18)  # classes of the positions at and after a field's end
_COLON = np.uint64(16)
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_DAYS32 = _DAYS.astype(np.int32)
_U64_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
TOP32 = np.uint64(1 << 32)


def gather(buf: U8, starts: Ints, lengths: Ints, width: int, zero: bool = True) -> U8:
    """Bytes ``buf[start:start+length]`` of each field as rows of a (n, width) matrix.

    Bytes past a field's length are zero (left as they are with ``zero=False``, for readers
    that look only inside each field's length). ``buf`` must end with at least ``width`` zero bytes
    of padding so no row runs off it. Fields longer than ``width`` are cut (callers check
    lengths). Rows are copied out of a sliding-window view, which is many times faster than
    indexing with an (n, width) matrix of offsets.
    """
    if width == 0 or len(starts) == 0:
        return np.zeros((len(starts), width), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(buf, width)
    out: U8 = windows[starts]
    if zero:
        out *= np.arange(width, dtype=np.int64) < lengths[:, None]
    return out


def as_bytes(chars: U8) -> npt.NDArray[np.bytes_]:
    """Rows of a gathered matrix as a numpy ``S<width>`` array."""
    width = max(chars.shape[1], 1)
    if chars.shape[1] == 0:
        return np.zeros(chars.shape[0], dtype="S1")
    result: npt.NDArray[np.bytes_] = np.ascontiguousarray(chars).view(f"S{width}").ravel()
    return result


def match_tokens(chars: U8, lengths: Ints, tokens: list[bytes]) -> U8:
    """Index of the token each field equals, 255 where none.

    ``chars`` must be 8 or 16 bytes wide (gathered without zeroing is fine): bytes past each
    field's length are masked off, and tokens are compared as one or two little-endian words.
    """
    width = chars.shape[1]
    keys = np.ascontiguousarray(chars).view("<u8")
    codes = np.full(len(chars), 255, dtype=np.uint8)
    for code, token in enumerate(tokens):
        size = len(token)
        if size > width:
            continue
        want = np.frombuffer(token.ljust(width, b"\0"), dtype="<u8")
        hit = lengths == size
        for word in range(width // 8):
            used = min(max(size - 8 * word, 0), 8)
            mask = np.uint64((1 << (8 * used)) - 1)
            hit &= (keys[:, word] & mask) == want[word]
        codes[hit] = code
    return codes


def parse_uint(chars: U8, lengths: Ints, max_digits: int) -> tuple[U64, Bools]:
    """Decimal integers without sign or leading zeros ("0" itself allowed)."""
    ok = (lengths >= 1) & (lengths <= min(max_digits, chars.shape[1]))
    ok &= ~((chars[:, 0] == 48) & (lengths > 1))
    value = np.zeros(len(chars), dtype=np.uint64)
    for j in range(min(max_digits, chars.shape[1], int(lengths.max(initial=0)))):
        c = chars[:, j]
        inside = j < lengths
        ok &= ~inside | ((c >= 48) & (c <= 57))
        digit = c.astype(np.uint64) - np.uint64(48)
        value = np.where(inside, value * np.uint64(10) + digit, value)
    return value, ok


def parse_ipv4(chars: U8, lengths: Ints) -> tuple[U64, Bools]:
    """Dotted-quad IPv4 addresses (no leading zeros, as :mod:`ipaddress` requires).

    One pass over the columns (transposed, so each column is contiguous) keeps a running
    octet per row and closes it at each dot and at the end of the field.
    """
    n, width = chars.shape
    cols = np.ascontiguousarray(chars.T)
    ok = (lengths >= 7) & (lengths <= 15)
    acc = np.zeros(n, dtype=np.uint64)
    octet = np.zeros(n, dtype=np.uint16)
    olen = np.zeros(n, dtype=np.int8)
    lead0 = np.zeros(n, dtype=bool)
    dots = np.zeros(n, dtype=np.int8)
    zero_col = np.zeros(n, dtype=np.uint8)
    for j in range(min(width, 15, int(lengths.max(initial=0))) + 1):
        c = cols[j] if j < width else zero_col
        inside = j < lengths
        digit = inside & (c >= 48) & (c <= 57)
        dot = inside & (c == 46)
        ok &= ~inside | digit | dot
        close = dot | (j == lengths)
        ok &= ~close | ((olen >= 1) & (olen <= 3) & (octet <= 255) & ~(lead0 & (olen > 1)))
        acc = np.where(close, (acc << np.uint64(8)) | octet, acc)
        dots += dot
        lead0 = np.where(close, False, np.where(digit & (olen == 0), c == 48, lead0))
        octet = np.where(close, 0, np.where(digit, octet * 10 + (c - 48), octet)).astype(np.uint16)
        olen = np.where(close, 0, olen + digit).astype(np.int8)
    ok &= dots == 3
    return acc, ok


def parse_ipv6(chars: U8, lengths: Ints) -> tuple[U64, U64, Bools]:
    """IPv6 addresses in hex-and-colon form (``::`` compression allowed, no IPv4 tail).

    Every character is first classed in one table lookup (hex digit 0-15, colon, end of field,
    past the end, or invalid), so the pass over the columns does only the arithmetic: it
    shifts each finished 16-bit group into a 128-bit register per row. At a ``::`` the register
    is set aside and restarted; at the end the groups before the gap are shifted up past the
    zeros it stands for. The shape rules (one ``::``, no lone colon at either end, at most four
    digits a group, eight groups) are checked on counts kept along the way.
    """
    n, width = chars.shape
    steps = min(width, 39, int(lengths.max(initial=0)))
    classes = np.empty((steps + 1, n), dtype=np.uint8)
    classes[:steps] = _HEX8[chars[:, :steps].T]
    position = np.arange(steps + 1, dtype=np.int64)[:, None]
    classes[position == lengths] = _END
    classes[position > lengths] = _PAST
    ok = (lengths >= 2) & (lengths <= 39) & ~(classes == 255).any(axis=0)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    left_hi = np.zeros(n, dtype=np.uint64)
    left_lo = np.zeros(n, dtype=np.uint64)
    count = np.zeros(n, dtype=np.int8)
    gap = np.full(n, -1, dtype=np.int8)
    cur = np.zeros(n, dtype=np.uint64)
    glen = np.zeros(n, dtype=np.int8)
    longest = np.zeros(n, dtype=np.int8)
    prev_colon = np.zeros(n, dtype=bool)
    s16, s48, s4 = np.uint64(16), np.uint64(48), np.uint64(4)
    for j in range(steps + 1):
        v = classes[j]
        hexd = v < 16
        colon = v == 16
        commit = (colon | (v == _END)) & (glen > 0)
        if commit.any():
            hi = np.where(commit, (hi << s16) | (lo >> s48), hi)
            lo = np.where(commit, (lo << s16) | cur, lo)
            count += commit
        double = colon & prev_colon
        if double.any():
            ok &= ~(double & (gap >= 0))
            gap[double] = count[double]
            left_hi[double], left_lo[double] = hi[double], lo[double]
            hi[double] = 0
            lo[double] = 0
        glen = np.where(hexd, glen + 1, 0).astype(np.int8)
        np.maximum(longest, glen, out=longest)
        cur = np.where(hexd, (cur << s4) | v, np.uint64(0))
        prev_colon = colon
    ok &= (longest <= 4) & _no_lone_colon_at_ends(chars, lengths)
    has_gap = gap >= 0
    ok &= np.where(has_gap, count <= 7, count == 8)
    if has_gap.any():
        rows = np.flatnonzero(has_gap)
        # the groups before the gap move up by the number of groups the gap plus tail take
        up_hi, up_lo = _shift_left_128(
            left_hi[rows], left_lo[rows], (8 - gap[rows].astype(np.int64)) * 16
        )
        hi[rows] |= up_hi
        lo[rows] |= up_lo
    return hi, lo, ok


def _no_lone_colon_at_ends(chars: U8, lengths: Ints) -> Bools:
    """False where a field starts or ends with one colon (``:1::`` or ``1::2:``)."""
    rows = np.arange(len(chars))
    last = np.clip(lengths - 1, 0, chars.shape[1] - 1)
    before = np.clip(lengths - 2, 0, chars.shape[1] - 1)
    lone_end = (chars[rows, last] == 58) & (chars[rows, before] != 58)
    lone_start = (chars[:, 0] == 58) & (chars[:, min(1, chars.shape[1] - 1)] != 58)
    ok: Bools = ~(lone_end | lone_start)
    return ok


def _shift_left_128(hi: U64, lo: U64, bits: I64) -> tuple[U64, U64]:
    """(hi, lo) << bits for 128-bit values split in halves, bits in 0..128."""
    b = np.clip(bits, 0, 128)
    small = np.clip(b, 0, 63).astype(np.uint64)
    big = np.clip(b - 64, 0, 63).astype(np.uint64)
    carry = np.where(b == 0, np.uint64(0), lo >> (np.uint64(64) - np.maximum(small, 1)))
    out_hi = np.where(b < 64, (hi << small) | carry, np.where(b < 128, lo << big, 0))
    out_lo = np.where(b < 64, lo << small, np.uint64(0))
    return out_hi.astype(np.uint64), out_lo.astype(np.uint64)


def ipv6_host_masks(plen: I64) -> tuple[U64, U64]:
    """(hi, lo) masks of the host bits of IPv6 prefixes of the given lengths (0-128)."""
    p = np.clip(plen, 0, 128)
    hi = np.where(p >= 64, np.uint64(0), _U64_ALL >> np.clip(p, 0, 63).astype(np.uint64))
    lo_shift = np.clip(p - 64, 0, 63).astype(np.uint64)
    lo = np.where(p >= 128, np.uint64(0), np.where(p <= 64, _U64_ALL, _U64_ALL >> lo_shift))
    return hi.astype(np.uint64), lo.astype(np.uint64)


def parse_dates(chars: U8, lengths: Ints) -> tuple[npt.NDArray[np.int32], Bools, Bools]:
    """YYYYMMDD fields: (yyyymmdd int or 0, wrote ``00000000``, ok). Empty fields are ok.

    ``chars`` is 8 bytes wide; each date is read as one 64-bit word, digits checked and split
    with word arithmetic rather than per byte.
    """
    word = np.ascontiguousarray(chars[:, :8]).view("<u8").ravel()
    digits = word - np.uint64(0x3030303030303030)
    # every byte a digit: no byte borrowed below '0' and none above 9
    high = np.uint64(0x8080808080808080)
    is_digits = ((word & high) == 0) & (((word + np.uint64(0x4646464646464646)) & high) == 0)
    is_digits &= ((word - np.uint64(0x3030303030303030)) & high) == 0
    b = digits.view(np.uint8).reshape(-1, 8).astype(np.int32)
    year = b[:, 0] * 1000 + b[:, 1] * 100 + b[:, 2] * 10 + b[:, 3]
    month = b[:, 4] * 10 + b[:, 5]
    day = b[:, 6] * 10 + b[:, 7]
    eight = (lengths == 8) & is_digits
    zeros = eight & (word == np.uint64(0x3030303030303030))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    days = _DAYS32[np.clip(month, 0, 12)] + ((month == 2) & leap)
    real = eight & (year >= 1) & month_ok & (day >= 1) & (day <= days)
    ok = (lengths == 0) | zeros | real
    date = np.where(real, year * 10000 + month * 100 + day, 0).astype(np.int32)
    return date, zeros, ok


def parse_cc(chars: U8, lengths: Ints) -> Bools:
    """Country fields: empty or two capital letters."""
    upper = (chars[:, :2] >= 65) & (chars[:, :2] <= 90)
    ok: Bools = (lengths == 0) | ((lengths == 2) & upper.all(axis=1))
    return ok


def parse_ipv6_strings(texts: list[str]) -> tuple[U64, U64, Bools]:
    """IPv6 addresses among ``texts`` in hex-and-colon form, as :func:`parse_ipv6` reads them
    (an IPv4 tail or a zone is refused, for the reference reader), by the C library's
    ``inet_pton``: four times as fast as the column pass on a list of strings, whose texts it
    needs neither joined nor gathered. Over hex digits and colons ``inet_pton`` follows RFC
    4291's grammar, as :mod:`ipaddress` does (a property test holds the two to it)."""
    pton = functools.partial(socket.inet_pton, socket.AF_INET6)
    ok = np.ones(len(texts), dtype=bool)
    try:  # the common case, every text an address: one C loop
        if "." in "".join(texts):
            raise ValueError("an IPv4 tail")
        raw = b"".join(map(pton, texts))
    except (OSError, ValueError):
        packed = []
        for i, text in enumerate(texts):
            try:
                if "." in text:
                    raise ValueError("an IPv4 tail")
                packed.append(pton(text))
            except (OSError, ValueError):
                ok[i] = False
                packed.append(bytes(16))
        raw = b"".join(packed)
    words = np.frombuffer(raw, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return words[:, 0].copy(), words[:, 1].copy(), ok

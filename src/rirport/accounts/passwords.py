"""Usernames and passwords: the rules a new one must meet, and argon2id hashing.

The rules (documented in docs/accounts.md): a password of at least
:data:`MIN_PASSWORD` and at most :data:`MAX_PASSWORD` characters that does not contain the
username and is not one character repeated. Length is what matters (NIST SP 800-63B §5.1.1);
no composition rules. Usernames are any printable text of up to :data:`MAX_USERNAME`
characters: stored verbatim, compared by their NFKC casefold, escaped wherever shown.
"""

from __future__ import annotations

import functools
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rirport.errors import InputError

MIN_PASSWORD = 12
MAX_PASSWORD = 256
MAX_USERNAME = 128
HASHER = PasswordHasher()
"""argon2id with argon2-cffi's RFC 9106 "low memory" defaults (t=3, m=64 MiB, p=4)."""


@functools.cache
def _dummy() -> str:
    """A hash to check when there is no account: made on first use, not at import (one
    argon2 hash costs 150-800 ms, which every command importing this module paid)."""
    return HASHER.hash("rirport: no such account, but take as long as if there were")


def username_key(name: str) -> str:
    """The form two usernames are compared in (``Alice`` and ``alice`` are one account)."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def check_username(name: str) -> str:
    """The username as stored (verbatim, surrounding spaces removed).

    Raises:
        InputError: empty, too long, or containing control characters.
    """
    text = name.strip()
    if not text:
        raise InputError("the username is empty")
    if len(text) > MAX_USERNAME or len(username_key(text)) > MAX_USERNAME:
        raise InputError(f"the username is longer than {MAX_USERNAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InputError("the username contains control or unassigned characters")
    return text


def check_password(password: str, username: str) -> None:
    """Refuse a weak password, saying why.

    Raises:
        InputError: too short, too long, one repeated character, or containing the username.
    """
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is shorter than {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"the password is longer than {MAX_PASSWORD} characters")
    if len(set(password)) == 1:
        raise InputError("the password is one character repeated")
    if username_key(username) and username_key(username) in username_key(password):
        raise InputError("the password contains the username")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; with ``stored`` None (no such account) a
    dummy hash is checked, so an unknown name costs the same time as a wrong password."""
    try:
        return HASHER.verify(stored or _dummy(), password[:MAX_PASSWORD]) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)

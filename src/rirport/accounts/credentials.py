"""Random credentials and their signatures: session ids, API tokens, CSRF tokens.

Session ids and API tokens are 256 random bits; the store keeps only their SHA-256 (a fast
hash is enough for values that cannot be guessed, unlike passwords). A session cookie is the
id and an HMAC-SHA256 of it under the server secret, so a forged or altered cookie is refused
before the store is asked. The CSRF token of a session is another HMAC of its id: a
synchroniser token the server can recompute, never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_PREFIX = "rpt_"
"""API tokens start with this, so secret scanners and people can recognise them."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """What the store keeps of a session id or token."""
    return hashlib.sha256(value.encode()).hexdigest()


def _mac(key: bytes, purpose: str, value: str) -> str:
    raw = hmac.new(key, f"{purpose}\n{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(key: bytes, value: str, purpose: str = "session") -> str:
    """``value.signature``, for a cookie."""
    return f"{value}.{_mac(key, purpose, value)}"


def unsign(key: bytes, signed: str, purpose: str = "session") -> str | None:
    """The value of a signed text, or None when the signature does not match."""
    value, dot, mac = signed.rpartition(".")
    if not dot or not value or len(signed) > 200 or not signed.isascii():
        return None  # what we sign is ASCII; compare_digest refuses other str outright
    return value if same(mac, _mac(key, purpose, value)) else None


def csrf_token(key: bytes, session_id: str) -> str:
    """The synchroniser token of one session."""
    return _mac(key, "csrf", session_id)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())

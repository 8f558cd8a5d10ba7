"""Who may do what: roles and permissions as data, checked in one place.

A reader is a :class:`Principal`: anonymous, or an account with a role. Each role reads
profiles at one tier of :data:`rirport.profiles.model.TIERS` and holds a set of permissions;
:func:`authorize` is the only check the HTTP edge and the services make. Holding a resource
is a second, separate question (:func:`rirport.accounts.service.holds`): a Leadership Alliance
member may file transfers, but only for what their verified holders hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rirport.errors import AuthenticationError, PermissionDeniedError

ANONYMOUS = "anonymous"
ROLES = ("strategy-circle", "leadership-alliance", "admin")
"""The roles an account may have (``tier`` column); new accounts are ``strategy-circle``."""

READ_TIER = {
    ANONYMOUS: "public",
    "strategy-circle": "strategy-circle",
    "leadership-alliance": "leadership-alliance",
    "admin": "leadership-alliance",
}
"""The profile tier each role reads (sections up to and including it)."""

PERMISSIONS: dict[str, frozenset[str]] = {
    "account:self": frozenset(ROLES),
    "portfolio:read": frozenset({"leadership-alliance", "admin"}),
    "transfer:file": frozenset({"leadership-alliance", "admin"}),
    "evidence:manage": frozenset({"admin"}),
    "verification:manage": frozenset({"admin"}),
    "accounts:manage": frozenset({"admin"}),
}
"""Permission → the roles that hold it. ``account:self``: log out, change one's password,
manage one's own API tokens."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: ``account_id`` None for an anonymous reader. ``via`` says how the
    request authenticated (``session``, ``token``, ``cli`` or ``anonymous``)."""

    account_id: int | None = None
    role: str = ANONYMOUS
    via: str = "anonymous"
    session_hash: str | None = None
    holders: tuple[tuple[str, str], ...] = field(default=())

    @property
    def authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def read_tier(self) -> str:
        return READ_TIER[self.role]

    @property
    def actor(self) -> str:
        """The journal's actor for changes this principal makes."""
        return f"account:{self.account_id}" if self.account_id is not None else ANONYMOUS


def allowed(principal: Principal, permission: str) -> bool:
    return principal.role in PERMISSIONS[permission]


def authorize(principal: Principal, permission: str) -> None:
    """Refuse unless ``principal`` holds ``permission``.

    Raises:
        AuthenticationError: anonymous (401: logging in could help).
        PermissionDeniedError: logged in with a role that lacks it (403).
        KeyError: an unknown permission (a programming error).
    """
    roles = PERMISSIONS[permission]
    if principal.role in roles:
        return
    if not principal.authenticated:
        raise AuthenticationError("authentication required: log in or send an API token")
    raise PermissionDeniedError(
        f"your tier ({principal.role}) may not do this "
        f"({permission}; needs {' or '.join(sorted(roles))})"
    )


def parse_role(text: str) -> str:
    """A role name as given by an administrator.

    Raises:
        InputError: not one of :data:`ROLES`.
    """
    from rirport.errors import InputError

    name = text.strip().lower()
    if name not in ROLES:
        raise InputError(f"unknown tier {text!r}: one of {', '.join(ROLES)}")
    return name

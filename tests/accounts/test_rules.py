"""The pure parts: the role table and its one check, password and username rules, signed
values and CSRF tokens, and the throttle's arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from limits.storage import MemoryStorage

from rirport.accounts import passwords
from rirport.accounts.credentials import csrf_token, digest, new_token, sign, unsign
from rirport.accounts.policy import (
    PERMISSIONS,
    READ_TIER,
    ROLES,
    Principal,
    allowed,
    authorize,
    parse_role,
)
from rirport.accounts.throttle import Limits, LoginThrottle
from rirport.errors import (
    AuthenticationError,
    InputError,
    LoginThrottledError,
    PermissionDeniedError,
)
from rirport.profiles.model import TIERS

KEY = b"k" * 32


def test_roles_read_tiers_of_the_profiles() -> None:
    assert set(READ_TIER.values()) == set(TIERS)
    assert [READ_TIER[r] for r in ("anonymous", *ROLES)] == [
        "public",
        "strategy-circle",
        "leadership-alliance",
        "leadership-alliance",
    ]
    for permission, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), permission
        assert "admin" in roles  # an administrator may do everything a member may


@pytest.mark.parametrize("permission", sorted(PERMISSIONS))
def test_authorize_is_the_table(permission: str) -> None:
    with pytest.raises(AuthenticationError):
        authorize(Principal(), permission)
    for role in ROLES:
        member = Principal(1, role, "token")
        if role in PERMISSIONS[permission]:
            authorize(member, permission)
            assert allowed(member, permission)
        else:
            with pytest.raises(PermissionDeniedError, match=permission):
                authorize(member, permission)


def test_only_admins_manage_and_only_alliance_files() -> None:
    assert PERMISSIONS["accounts:manage"] == {"admin"}
    assert PERMISSIONS["transfer:file"] == {"leadership-alliance", "admin"}
    assert "strategy-circle" not in PERMISSIONS["portfolio:read"]
    assert parse_role(" Admin ") == "admin"
    with pytest.raises(InputError, match="unknown tier"):
        parse_role("gold")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("a" * (passwords.MIN_PASSWORD - 1), "shorter"),
        ("b" * 40, "repeated"),
        ("x" * (passwords.MAX_PASSWORD + 1) + "y", "longer"),
        ("my name is Alice-Example!", "username"),
    ],
)
def test_weak_passwords_say_why(password: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        passwords.check_password(password, "alice-example")


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = passwords.hash_password("a good long passphrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a good long passphrase")
    assert not passwords.verify_password(stored, "a good long passphrasE")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not a hash", "anything at all")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("<script>alert(1)</script>", True),
        ("x'); DROP TABLE account; --", True),
        ("Ａｌｉｃｅ", True),
        ("", False),
        ("   ", False),
        ("tab\there", False),
        ("n" * 129, False),
    ],
)
def test_usernames(name: str, ok: bool) -> None:
    if ok:
        assert passwords.check_username(name) == name.strip()
    else:
        with pytest.raises(InputError):
            passwords.check_username(name)
    assert passwords.username_key("Ａｌｉｃｅ") == passwords.username_key("ALICE") == "alice"


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
    st.integers(min_value=0, max_value=200),
)
def test_any_change_to_a_signed_value_is_refused(value: str, at: int) -> None:
    signed = sign(KEY, value)
    assert unsign(KEY, signed) == value
    assert unsign(b"another key", signed) is None
    assert unsign(KEY, signed, "login-csrf") is None  # signatures are per purpose
    position = at % len(signed)
    flipped = "A" if signed[position] != "A" else "B"
    tampered = signed[:position] + flipped + signed[position + 1 :]
    assert tampered != signed and unsign(KEY, tampered) is None


def test_tokens_and_csrf() -> None:
    first, second = new_token(), new_token()
    assert first != second and first.startswith("rpt_") and len(first) > 40
    assert digest(first) != digest(second) and len(digest(first)) == 64
    assert csrf_token(KEY, "s1") == csrf_token(KEY, "s1") != csrf_token(KEY, "s2")
    assert csrf_token(KEY, "s1") != csrf_token(b"other", "s1")


def test_throttle_counts_a_name_per_client_and_a_client_over_names() -> None:
    throttle = LoginThrottle(MemoryStorage(), Limits(per_account=3, per_client=5, window=900))
    for _ in range(3):
        throttle.admit("member", "10.0.0.1")
    with pytest.raises(LoginThrottledError) as caught:
        throttle.admit("member", "10.0.0.1")
    assert 895 <= caught.value.retry_after <= 900
    throttle.admit("member", "10.0.0.2")  # the member's own address is not locked out
    throttle.admit("other", "10.0.0.1")
    throttle.admit("third", "10.0.0.1")  # five admitted from 10.0.0.1 (a refusal is none)
    with pytest.raises(LoginThrottledError):
        throttle.admit("fourth", "10.0.0.1")
    throttle.succeeded("member", "10.0.0.2")  # forgiven: its attempt is given back
    for _ in range(3):
        throttle.admit("member", "10.0.0.2")
    off = LoginThrottle(MemoryStorage(), Limits(per_account=0, per_client=0))
    for _ in range(50):
        off.admit("member", "10.0.0.1")

"""CSRF for the pages' forms, with the server's own sessions (:mod:`rirport.http.auth`).

A signed-in reader's forms carry the session's synchroniser token (the one the API takes in
``X-CSRF-Token``); an anonymous reader's forms (the regime upload on ``/portability``) carry a
double-submit token: a random value in a signed ``rirport_form_csrf`` cookie and in the form,
which must match. Templates call ``csrf_field()`` (a hidden input); handlers call
:func:`checked_fields` before acting on a form.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rirport.accounts.credentials import csrf_token, new_secret, same, sign, unsign
from rirport.errors import PermissionDeniedError
from rirport.http.auth.principal import check_csrf, session_id
from rirport.http.auth.state import SESSION_COOKIE, auth_state

FORM_COOKIE = "rirport_form_csrf"
FIELD = "csrf_token"
PURPOSE = "form-csrf"


def session_token(request: Request) -> str | None:
    """The session's CSRF token, or None for a reader who is not signed in."""
    state = auth_state(request)
    sid = session_id(state, request.cookies.get(SESSION_COOKIE))
    return None if sid is None else csrf_token(state.key, sid)


class FormToken:
    """The token of one page's forms; for an anonymous reader it sets the cookie it needs
    (:meth:`apply` on the response)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self._value = session_token(request)
        self._fresh: str | None = None

    @property
    def value(self) -> str:
        if self._value is None:
            state = auth_state(self.request)
            held = unsign(state.key, self.request.cookies.get(FORM_COOKIE, ""), PURPOSE)
            self._value = held or new_secret()
            self._fresh = None if held else self._value
        return self._value

    def apply(self, response: Response) -> None:
        if self._fresh is not None:
            state = auth_state(self.request)
            response.set_cookie(
                FORM_COOKIE,
                sign(state.key, self._fresh, PURPOSE),
                path="/",
                httponly=True,
                samesite="strict",
                secure=state.secure(self.request),
                max_age=12 * 3600,
            )


def check_token(request: Request, given: str | None) -> None:
    """Raises: PermissionDeniedError when ``given`` is not this reader's form token."""
    state = auth_state(request)
    sid = session_id(state, request.cookies.get(SESSION_COOKIE))
    if sid is not None:
        check_csrf(state, sid, given)
        return
    held = unsign(state.key, request.cookies.get(FORM_COOKIE, ""), PURPOSE)
    if held is None or not given or not same(held, given):
        raise PermissionDeniedError(
            "the form expired or was not sent from this site: reload the page and send it again"
        )


def checked_fields(request: Request, fields: dict[str, str]) -> dict[str, str]:
    """``fields`` once their CSRF token is checked (see :func:`check_token`)."""
    check_token(request, fields.get(FIELD))
    return fields

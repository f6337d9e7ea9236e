"""The one CSRF protection of every form the console serves.

Showing a form draws a random nonce, puts it in a cookie (``HttpOnly``,
``SameSite=Strict``, sent back only to the form's own path, for an hour) and puts
its keyed MAC in the form's hidden ``csrf`` field.  A submission is accepted only if
both come back and match: a page of another site can neither read the cookie nor
make the browser send it, and without the keyring it cannot compute the MAC.

The MAC is the keyring's (``Keyring.mac``) under a purpose of its own, over the
form's name and the nonce, so a token of one form is worthless for another.  No
state is kept on the server.  A refused submission raises ``FormExpired``; each page
shows its translated "form expired" message and a fresh form, and writes nothing.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from starlette.responses import Response

from privault.crypto import Keyring
from privault.errors import N_, PrivaultError

CSRF_PURPOSE: Final = "console.form-csrf.v1"
FIELD: Final = "csrf"
MAX_AGE_SECONDS: Final = 3600
FORM_EXPIRED: Final = N_(
    "The form expired or was not sent from this page. Please fill it in again."
)


@dataclass(frozen=True, slots=True)
class GuardedForm:
    """A form under CSRF protection: its name (bound into the token), the cookie that
    holds its nonce, and the path that cookie is sent to."""

    name: str
    cookie: str
    path: str


class FormExpired(PrivaultError):
    """The submission did not carry the token of the nonce in its cookie: the form is
    too old, was sent from elsewhere, or the cookie was refused."""

    code = "form_expired"
    http_status: ClassVar[int] = 403

    def __init__(self) -> None:
        super().__init__(FORM_EXPIRED)


class Csrf:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def token(self, form: GuardedForm, nonce: str) -> str:
        message = f"{form.name}\x00{nonce}".encode()
        digest = self._keyring.mac(CSRF_PURPOSE, message)
        return base64.urlsafe_b64encode(digest[:24]).decode("ascii")

    def issue(self, form: GuardedForm, render: Callable[[str], Response]) -> Response:
        """``render(token)`` -- the page with the token in its form -- with the cookie
        that token belongs to.  Every form shown gets a fresh nonce."""
        nonce = secrets.token_urlsafe(24)
        response = render(self.token(form, nonce))
        response.set_cookie(
            form.cookie,
            nonce,
            max_age=MAX_AGE_SECONDS,
            path=form.path,
            httponly=True,
            samesite="strict",
        )
        return response

    def verify(self, form: GuardedForm, cookies: Mapping[str, str], token: str) -> None:
        """Raise ``FormExpired`` unless ``token`` is the one of the nonce in the cookie."""
        nonce = cookies.get(form.cookie, "")
        if not nonce or not token:
            raise FormExpired()
        expected = self.token(form, nonce).encode("ascii")
        if not hmac.compare_digest(expected, token.encode("utf-8", "replace")):
            raise FormExpired()

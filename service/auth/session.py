"""Browser sessions: a signed, expiring cookie that stands for an access key, and the CSRF token bound to it.

The console signs a user in with an access key pair once; afterwards the browser holds only this cookie (HttpOnly,
SameSite=Strict), never the secret. The cookie is signed with a key kept in LV_HOME (mode 0600) and carries the access
key id, a random CSRF token and its issue time; it expires after `SESSION_TTL`. A request that changes anything must
echo the CSRF token in the `X-CSRF-Token` header, which a cross-site page cannot read.

This module never verifies SigV4 and never stores sessions server-side: deleting the access key ends its sessions.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from service.auth.keys import KeyStore, write_private
from service.errors import AccessDeniedException

SESSION_COOKIE = "lv_session"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL = timedelta(hours=8)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SALT = "openlv-console-session"


@dataclass(frozen=True)
class Session:
    access_key_id: str
    csrf_token: str


class SessionSigner:
    """Issues and reads session cookies; the signing key lives in `key_file`, created on first use."""

    def __init__(self, key_file: Path, ttl: timedelta = SESSION_TTL) -> None:
        if not key_file.exists():
            write_private(key_file, secrets.token_bytes(32).hex().encode())
        self._serializer = URLSafeTimedSerializer(key_file.read_bytes().decode(), salt=_SALT)
        self._max_age = int(ttl.total_seconds())

    def issue(self, access_key_id: str) -> tuple[str, Session]:
        session = Session(access_key_id=access_key_id, csrf_token=secrets.token_urlsafe(24))
        return self._serializer.dumps({"k": session.access_key_id, "c": session.csrf_token}), session

    def read(self, cookie: str) -> Session | None:
        """The session in a cookie that is intact and younger than the signer's time to live, else None."""
        try:
            payload = self._serializer.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("k"), str)
            or not isinstance(payload.get("c"), str)
        ):
            return None
        return Session(access_key_id=payload["k"], csrf_token=payload["c"])


def session_signer(request: Request) -> SessionSigner | None:
    """The app's signer, present when the console is mounted."""
    return getattr(request.app.state, "sessions", None)


def current_session(request: Request, keys: KeyStore) -> Session | None:
    """The request's valid session whose access key still exists, or None (no CSRF check: reading is safe)."""
    signer = session_signer(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if signer is None or not cookie:
        return None
    session = signer.read(cookie)
    if session is None or keys.secret_for(session.access_key_id) is None:
        return None
    return session


def has_session_cookie(request: Request) -> bool:
    return SESSION_COOKIE in request.cookies and "authorization" not in request.headers


def authenticate(request: Request, keys: KeyStore) -> str:
    """The access key of a request that carries a session cookie instead of a signature; CSRF-checked mutations."""
    session = current_session(request, keys)
    if session is None:
        raise AccessDeniedException("The console session has expired or is invalid; sign in again.")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise AccessDeniedException("Missing or wrong X-CSRF-Token header for this console session.")
    return session.access_key_id

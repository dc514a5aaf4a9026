"""Sign-in with an access key pair, and sign-out: the only console routes that see a secret, and only to check it.

The secret is compared with the key store's copy and forgotten; the browser gets a signed session cookie (HttpOnly,
SameSite=Strict, expiring) and the pages a CSRF token. Sign-in refuses cross-site posts (Origin must match) and keys
whose role has no console pages (inference keys). Nothing here is reachable by SigV4 API clients.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import access
from console.pages import TEMPLATES, signed_in
from service.auth.session import SESSION_COOKIE, SESSION_TTL, SessionSigner
from service.context import AppContext

router = APIRouter(prefix="/console", include_in_schema=False)
WRONG_PAIR = "That access key id and secret access key do not match a key of this service."


def _safe_next(target: str | None) -> str:
    """Only a console path: never another site (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def _form(request: Request, *, status: int = 200, error: str | None = None, next_path: str = "") -> Response:
    values = {"request": request, "error": error, "next": _safe_next(next_path), "page": "sign-in", "nav": []}
    return TEMPLATES.TemplateResponse(request, "sign_in.html", values, status_code=status)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "") -> Response:
    session = signed_in(request)
    if session is not None:
        home = access.home_for(access.role_of(request.app.state.context, session.access_key_id))
        return RedirectResponse(_safe_next(next) or home, status_code=303)
    return _form(request, next_path=next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    access_key_id: Annotated[str, Form(max_length=128)],
    secret_access_key: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return _form(request, status=403, error="Sign-in must come from this console's own page.")
    context: AppContext = request.app.state.context
    key_id = access_key_id.strip()
    secret = context.keys.secret_for(key_id)
    if secret is None or not hmac.compare_digest(secret.encode(), secret_access_key.strip().encode()):
        return _form(request, status=401, error=WRONG_PAIR, next_path=next)
    refusal = access.sign_in_refusal(access.role_of(context, key_id))
    if refusal is not None:
        return _form(request, status=403, error=refusal, next_path=next)
    signer: SessionSigner = request.app.state.sessions
    cookie, _ = signer.issue(key_id)
    response = RedirectResponse(_safe_next(next) or access.home_for(access.role_of(context, key_id)), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    session = signed_in(request)
    if session is not None and not hmac.compare_digest(csrf_token.encode(), session.csrf_token.encode()):
        return RedirectResponse("/console/projects", status_code=303)
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response

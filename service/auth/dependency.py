"""The FastAPI dependency that admits only correctly signed requests, from keys whose role may call the operation."""

import time

from fastapi import Request

from service.auth import session
from service.auth.request_rules import check_payload_rules, operation_of
from service.auth.roles import authorize, operation_name
from service.auth.sigv4 import UNSIGNED_PAYLOAD, SignedRequest, parse_authorization, verify
from service.context import AppContext
from service.errors import AccessDeniedException

PARSED_AUTHORIZATION = "parsed_authorization"
"""`request.state.parsed_authorization`: the Authorization header as the request guard parsed it before the body was
read (`service.api.request_guard`); the signature is verified here, over the body."""


async def require_signature(request: Request) -> str:
    """Verify the request's SigV4 signature (or console session) and the key's role (`service.auth.roles`); returns
    the caller's access key id. The time it took is kept as `request.state.auth_seconds` (for Server-Timing)."""
    started = time.perf_counter()
    context: AppContext = request.app.state.context
    if not context.settings.auth_enabled:
        return "anonymous"
    if session.has_session_cookie(request):  # the console: a signed session cookie instead of a signature
        access_key_id = session.authenticate(request, context.keys)
        role = context.keys.role_for(access_key_id)
        if role is None:
            raise AccessDeniedException("The console session's access key was deleted; sign in again.")
        authorize(role, operation_name(request.scope["route"]))
        request.state.access_key_id = access_key_id
        return access_key_id
    # An unsigned payload (large streaming uploads, as S3 allows) is not read here: the route streams it.
    unsigned = request.headers.get("x-amz-content-sha256") == UNSIGNED_PAYLOAD
    body = b"" if unsigned else await request.body()
    # Sign over the path as sent: ARNs in paths arrive percent-encoded and SigV4 covers the encoded form.
    raw_path = request.scope.get("raw_path")
    url = request.url.replace(path=raw_path.decode("latin-1")) if raw_path else request.url
    signed = SignedRequest(
        method=request.method,
        url=str(url),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )
    authorization = getattr(request.state, PARSED_AUTHORIZATION, None) or parse_authorization(signed)
    check_payload_rules(
        operation=operation_of(request.method, request.url.path),
        unsigned_payload=unsigned,
        region=authorization.region,
        settings=context.settings,
    )
    key = context.keys.lookup(authorization.access_key_id)
    if key is None:
        raise AccessDeniedException("The security token included in the request is invalid: unknown access key.")
    verify(signed, authorization, key.secret_access_key)
    authorize(key.role, operation_name(request.scope["route"]))
    request.state.access_key_id = authorization.access_key_id
    request.state.auth_seconds = time.perf_counter() - started
    return authorization.access_key_id

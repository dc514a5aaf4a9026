"""The FastAPI dependency that admits only correctly signed requests."""

from fastapi import Request

from service.auth import session
from service.auth.sigv4 import UNSIGNED_PAYLOAD, SignedRequest, parse_authorization, verify
from service.context import AppContext
from service.errors import AccessDeniedException


async def require_signature(request: Request) -> str:
    """Verify the request's SigV4 signature (or console session); returns the caller's access key id."""
    context: AppContext = request.app.state.context
    if not context.settings.auth_enabled:
        return "anonymous"
    if session.has_session_cookie(request):  # the console: a signed session cookie instead of a signature
        request.state.access_key_id = session.authenticate(request, context.keys)
        return request.state.access_key_id
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
    authorization = parse_authorization(signed)
    secret = context.keys.secret_for(authorization.access_key_id)
    if secret is None:
        raise AccessDeniedException("The security token included in the request is invalid: unknown access key.")
    verify(signed, authorization, secret)
    request.state.access_key_id = authorization.access_key_id
    return authorization.access_key_id

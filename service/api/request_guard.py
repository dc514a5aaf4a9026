"""Checks made before a request's body is read: its declared size against its operation's limit, and (when auth is
on) the signature's headers: form, date, service and a known access key, or the console's session cookie.

FastAPI reads a JSON body before any dependency runs, so these checks live in ASGI middleware: an unauthenticated or
oversized request is answered without its body ever being received. The signature itself is still verified over the
body by `service.auth.dependency.require_signature`. A request with a body must say how long it is (Content-Length).
"""

import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth import session
from service.auth.dependency import PARSED_AUTHORIZATION
from service.auth.request_rules import body_limit, operation_of
from service.auth.sigv4 import Authorization, SignedRequest, parse_authorization
from service.context import AppContext
from service.errors import AccessDeniedException, PayloadTooLargeException, ServiceError, ValidationException

API_PREFIX = "/2020-11-20/"
RECEIVED_AT = "received_at"
"""`request.state.received_at`: when the guard saw the request (perf_counter), for the Server-Timing `receive` stage."""


class RequestGuard:
    def __init__(self, app: ASGIApp, *, respond: Callable[[ServiceError], Response]) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[RECEIVED_AT] = time.perf_counter()
        context: AppContext = scope["app"].state.context
        try:
            await self._check(scope, context)
        except ServiceError as exc:
            await self.respond(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, context: AppContext) -> None:
        headers = Headers(scope=scope)
        if context.settings.auth_enabled:
            request = Request(scope)
            if session.has_session_cookie(request):
                await run_in_threadpool(_check_session, request, context)
            else:
                scope["state"][PARSED_AUTHORIZATION] = await _check_signature_headers(context, headers)
        limit = body_limit(operation_of(scope["method"], scope["path"]), context.settings)
        length = headers.get("content-length")
        if length is None:
            if "transfer-encoding" in headers:
                raise ValidationException("Send the request body with a Content-Length header.")
            return
        if not length.isdigit():
            raise ValidationException("The Content-Length header is not a number.")
        if int(length) > limit:
            raise PayloadTooLargeException(
                f"The request body is {int(length)} bytes; this operation accepts at most {limit} bytes."
            )


def _check_session(request: Request, context: AppContext) -> None:
    if session.current_session(request, context.keys) is None:
        raise AccessDeniedException("The console session has expired or is invalid; sign in again.")


async def _check_signature_headers(context: AppContext, headers: Headers) -> Authorization:
    """Parsed on the event loop; the key is looked up in a worker thread only when it is not cached."""
    signed = SignedRequest(
        method="", url="", headers={name.lower(): value for name, value in headers.items()}, body=b""
    )
    authorization = parse_authorization(signed)
    key_id = authorization.access_key_id
    known = context.keys.cached(key_id) or await run_in_threadpool(context.keys.lookup, key_id)
    if known is None:
        raise AccessDeniedException("The security token included in the request is invalid: unknown access key.")
    return authorization

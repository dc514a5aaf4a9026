"""The app factory: `create_app(settings)` builds a service; tests inject their own settings."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import mount as mount_console
from service.api import docs, health
from service.api.busy_poll import BusyPoll
from service.api.ext import router as ext_router
from service.api.lookoutvision import router as lookoutvision_router
from service.api.request_guard import RequestGuard
from service.auth.roles import operation_name
from service.context import AppContext
from service.domain import hosting, recovery
from service.errors import InternalServerException, ServiceError, UnknownOperationException, ValidationException
from service.settings import Settings, get_settings
from service.wiring import build_job_runner, open_hosting

log = logging.getLogger("openlv")


def error_response(error: ServiceError) -> JSONResponse:
    """The rest-json error shape botocore parses: type in `x-amzn-ErrorType` and `__type`, text in `Message`."""
    body = {"__type": error.code, "Message": error.message, **error.fields}
    headers = {"x-amzn-ErrorType": error.code, **error.headers}
    return JSONResponse(status_code=error.status, content=body, headers=headers)


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'] if part != 'body') or 'request'}: {error['msg']}"
        for error in exc.errors()
    )
    return error_response(ValidationException(f"Invalid request: {problems}"))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(UnknownOperationException("Unknown operation: no route matches this method and path."))
    if exc.status_code == 405:
        return error_response(ValidationException("Method not allowed for this resource."))
    if 400 <= exc.status_code < 500:
        return error_response(ValidationException(str(exc.detail)))
    return error_response(InternalServerException(str(exc.detail)))


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(InternalServerException("An internal error occurred; see the service log."))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(recovery.recover_on_start, app.state.context)
        app.state.jobs.start()
        app.state.hosting = open_hosting(app.state.context)
        await run_in_threadpool(hosting.resume_hosting, app.state.hosting)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.hosting.runtime.close)
            app.state.jobs.close()
            app.state.context.close()

    app = FastAPI(
        title="openlv",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_name,
        **docs.docs_urls(settings),
    )
    app.state.context = AppContext.open(settings)
    app.state.jobs = build_job_runner(app.state.context)
    app.state.busy_poll = BusyPoll(settings.hosting_busy_poll_s)
    app.add_middleware(RequestGuard, respond=error_response)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(health.router)
    app.include_router(lookoutvision_router)
    app.include_router(ext_router)
    docs.add_signed_openapi(app, settings)
    mount_console(app)
    return app

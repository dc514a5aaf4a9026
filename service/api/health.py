"""Probes for process supervisors (Docker HEALTHCHECK, Kubernetes, a load balancer): unsigned, outside the API prefix.

`GET /health` says the process answers HTTP (liveness: restart me if this fails). `GET /health/ready` also runs
`SELECT 1` on the database (readiness: send me traffic only if this succeeds), so an outage of the database takes
replicas out of a load balancer without restarting them. Neither reveals anything but "ok" or the failing part, and
neither is an API operation (no role, not in the OpenAPI document).
"""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("openlv.health")

router = APIRouter(prefix="/health", include_in_schema=False)


def database_answers(engine: Engine) -> bool:
    """True when the database runs a trivial query; a failure is logged here, never shown to the caller."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness probe: the database does not answer: %s", error)
        return False
    return True


@router.get("")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    if not await run_in_threadpool(database_answers, request.app.state.context.engine):
        return JSONResponse(status_code=503, content={"status": "unavailable", "failing": "database"})
    return JSONResponse(content={"status": "ok"})

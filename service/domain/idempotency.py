"""ClientToken idempotency: the same token with the same request gets the same answer; with another request, a conflict.

As in AWS, a token is remembered for `TOKEN_LIFETIME` (8 hours); after that it starts a new request. The tokens of a
project's requests are forgotten when the project is deleted, so a replay never answers for a project that is gone.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.db.engine import UnitOfWork, unit_of_work
from service.db.models import IdempotencyRecord, utcnow
from service.errors import ConflictException

TOKEN_LIFETIME = timedelta(hours=8)


def request_hash(parameters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(
    session: Session,
    *,
    operation: str,
    client_token: str | None,
    parameters: dict[str, Any],
    produce: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Run `produce` once per (operation, token) and replay its response; all inside the caller's transaction."""
    if client_token is None:
        return produce()
    replayed = replayed_response(session, operation=operation, client_token=client_token, parameters=parameters)
    if replayed is not None:
        return replayed
    response = produce()
    project_name = parameters.get("ProjectName")
    session.add(
        IdempotencyRecord(
            operation=operation,
            client_token=client_token,
            request_hash=request_hash(parameters),
            response=response,
            project_name=project_name if isinstance(project_name, str) else None,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise ConflictException(
            f"A request with ClientToken {client_token!r} is in progress; retry it.",
            resource_id=client_token,
            resource_type="CLIENT_TOKEN",
        ) from None
    return response


def run_idempotent(
    engine: Engine,
    *,
    operation: str,
    client_token: str | None,
    parameters: dict[str, Any],
    produce: Callable[[UnitOfWork], dict[str, Any]],
) -> dict[str, Any]:
    """A whole write operation: one unit of work in which `produce` runs once per (operation, token) and may register
    after-commit actions; a replay returns the stored answer and runs none of them."""
    with unit_of_work(engine) as work:
        return idempotent(
            work.session,
            operation=operation,
            client_token=client_token,
            parameters=parameters,
            produce=lambda: produce(work),
        )


def replayed_response(
    session: Session, *, operation: str, client_token: str, parameters: dict[str, Any], now: datetime | None = None
) -> dict[str, Any] | None:
    """The stored answer to a live token's earlier request (Conflict if that request differed); None if there is none.

    An expired record is deleted here, so the token starts a new request."""
    record = session.get(IdempotencyRecord, (operation, client_token))
    if record is None:
        return None
    created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
    if (now or utcnow()) - created >= TOKEN_LIFETIME:
        session.delete(record)
        session.flush()
        return None
    if record.request_hash != request_hash(parameters):
        raise ConflictException(
            f"ClientToken {client_token!r} was already used for a different {operation} request.",
            resource_id=client_token,
            resource_type="CLIENT_TOKEN",
        )
    return record.response


def forget_project(session: Session, *, project_name: str) -> None:
    """Forget the tokens of every request made on a project (it is being deleted)."""
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.project_name) == project_name))

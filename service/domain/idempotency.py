"""ClientToken idempotency: the same token with the same request gets the same answer; with another request, a conflict."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.db.engine import UnitOfWork, unit_of_work
from service.db.models import IdempotencyRecord
from service.errors import ConflictException


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
    digest = request_hash(parameters)
    record = session.get(IdempotencyRecord, (operation, client_token))
    if record is not None:
        if record.request_hash != digest:
            raise ConflictException(
                f"ClientToken {client_token!r} was already used for a different {operation} request.",
                resource_id=client_token,
                resource_type="CLIENT_TOKEN",
            )
        return record.response
    response = produce()
    session.add(IdempotencyRecord(operation=operation, client_token=client_token, request_hash=digest, response=response))
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

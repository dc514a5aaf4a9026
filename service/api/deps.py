"""Dependencies shared by every route."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from service.context import AppContext


def get_context(request: Request) -> AppContext:
    return request.app.state.context


Context = Annotated[AppContext, Depends(get_context)]
ClientToken = Annotated[str | None, Header(alias="X-Amzn-Client-Token", max_length=64)]


def epoch(value: datetime) -> float:
    """rest-json timestamps are epoch seconds."""
    return value.timestamp()

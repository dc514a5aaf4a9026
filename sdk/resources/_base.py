"""The base of every typed resource: a pydantic model of the wire shape that keeps the client it came from."""

import uuid
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr
from pydantic.alias_generators import to_pascal

from sdk._default import default_client
from sdk.client import Client

CLIENT_TOKEN_HEADER = "X-Amzn-Client-Token"


class WireModel(BaseModel):
    """A pydantic model whose snake_case fields read the service's PascalCase members; unknown members are kept."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow", frozen=False)


class Resource(WireModel):
    """A wire model bound to a `Client`, so that methods on it chain (`project.train().wait()`)."""

    _client: Client = PrivateAttr()

    @classmethod
    def bind(cls, client: Client, data: dict[str, Any], **extra: Any) -> Self:
        resource = cls.model_validate({**data, **extra})
        resource._client = client
        return resource

    @property
    def client(self) -> Client:
        return self._client

    def _replace_with(self, fresh: "Resource") -> Self:
        """Copy a fresh description's fields onto this object (so references held by callers see the update)."""
        for name in type(self).model_fields:
            setattr(self, name, getattr(fresh, name))
        if fresh.__pydantic_extra__ is not None:
            self.__pydantic_extra__ = dict(fresh.__pydantic_extra__)
        return self


def resolve_client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def client_token_header() -> dict[str, str]:
    """A fresh idempotency token: the request's retries reuse it, so a retried create never creates twice."""
    return {CLIENT_TOKEN_HEADER: uuid.uuid4().hex}

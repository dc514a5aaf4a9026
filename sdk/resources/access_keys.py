"""`AccessKey`: CreateAccessKey, ListAccessKeys, DeleteAccessKey (openlv extensions, admin keys only).

A key's role decides what it may call: `admin` everything, `reviewer` the review queue and read-only calls on projects,
datasets and models, `inference` DetectAnomalies and the same read-only calls.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import Field

from sdk._transport import api_path
from sdk.client import Client
from sdk.pagination import paginate
from sdk.resources._base import Resource, resolve_client

AccessKeyRole = Literal["admin", "reviewer", "inference"]


class AccessKey(Resource):
    """An access key as ListAccessKeys shows it: never its secret."""

    access_key_id: str
    role: AccessKeyRole
    description: str = ""
    creation_timestamp: datetime | None = None

    @classmethod
    def create(cls, *, role: AccessKeyRole, description: str = "", client: Client | None = None) -> "NewAccessKey":
        """A new key; keep `secret_access_key` from the answer, the service never shows it again."""
        bound = resolve_client(client)
        answer = bound.request("POST", api_path("accesskeys"), json_body={"Role": role, "Description": description})
        return NewAccessKey.bind(bound, answer["AccessKey"])

    @classmethod
    def list(cls, *, client: Client | None = None, page_size: int | None = None) -> Iterator[Self]:
        """Every key, ordered by id, fetching pages as the iteration goes."""
        bound = resolve_client(client)

        def fetch(token: str | None) -> dict[str, Any]:
            return bound.request("GET", api_path("accesskeys"), params={"nextToken": token, "maxResults": page_size})

        return paginate(fetch, "AccessKeys", lambda item: cls.bind(bound, item))

    @classmethod
    def delete_id(cls, access_key_id: str, *, client: Client | None = None) -> None:
        """DeleteAccessKey by id: refused for the key the client signs with and for the last admin key."""
        resolve_client(client).request("DELETE", api_path("accesskeys", access_key_id))

    def delete(self) -> None:
        type(self).delete_id(self.access_key_id, client=self.client)


class NewAccessKey(AccessKey):
    """CreateAccessKey's answer: the one time the secret is shown (it stays out of `repr`)."""

    secret_access_key: str = Field(repr=False)

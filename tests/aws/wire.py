"""A boto3 lookoutvision client whose requests never leave the process: a ``before-send`` handler records each
prepared request and answers it with a canned response, so tests pin the exact HTTP shape the service must accept and
send."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from sdk.boto import boto3_client

ENDPOINT = "http://openlv.test:8080"
CREDENTIALS = {"aws_access_key_id": "AKIDOPENLVTEST", "aws_secret_access_key": "openlv-test-secret"}


@dataclass
class CannedReply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class _RawBody:
    """The one method of urllib3's response that AWSResponse reads."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


class Wire:
    """Records prepared requests and answers them with queued canned replies (the last one repeats)."""

    def __init__(self, client: Any) -> None:
        self.requests: list[AWSPreparedRequest] = []
        self.replies: list[CannedReply] = [CannedReply()]
        client.meta.events.register("before-send.lookoutvision", self._answer)

    def reply(self, *replies: CannedReply) -> None:
        self.replies = list(replies)

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return AWSResponse(request.url, reply.status, reply.headers, _RawBody(reply.body))

    @property
    def last(self) -> AWSPreparedRequest:
        return self.requests[-1]


def make_client(**config: Any) -> Any:
    return boto3_client(ENDPOINT, region_name="us-east-1", config=Config(**config), **CREDENTIALS)


def body_of(request: AWSPreparedRequest) -> dict[str, Any] | None:
    return json.loads(request.body) if request.body else None


def query_of(request: AWSPreparedRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def header_of(request: AWSPreparedRequest, name: str) -> str | None:
    """A header of the prepared request as text (botocore keeps some values as bytes)."""
    value = request.headers.get(name)
    return value.decode() if isinstance(value, bytes) else value


def path_of(request: AWSPreparedRequest) -> str:
    return urlsplit(request.url).path

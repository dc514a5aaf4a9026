"""How boto3 reads openlv's errors through the botocore model: modeled exception classes, members, Retry-After, the
error code from the header or the body, and standard-mode retries of throttling."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.wire import CannedReply, Wire, make_client

ERRORS = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ResourceNotFoundException": 404,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "ValidationException": 400,
}


def _error_reply(code: str, body: dict[str, Any], extra_headers: dict[str, str] | None = None) -> CannedReply:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": "req-1"}
    return CannedReply(status=ERRORS[code], body=json.dumps(body).encode(), headers=headers | (extra_headers or {}))


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_error_shape_parses_to_modeled_client_error(client: Any, wire: Wire, code: str) -> None:
    wire.reply(_error_reply(code, {"__type": code, "message": f"{code} happened"}))
    with pytest.raises(getattr(client.exceptions, code)) as caught:
        client.describe_project(ProjectName="widgets")
    error = caught.value
    assert isinstance(error, ClientError)
    assert error.response["Error"] == {"Code": code, "Message": f"{code} happened"}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == ERRORS[code]
    assert error.response["ResponseMetadata"]["RequestId"] == "req-1"


def test_error_modeled_members_and_retry_after(client: Any, wire: Wire) -> None:
    body = {
        "__type": "ResourceNotFoundException",
        "Message": "no project widgets",
        "ResourceId": "widgets",
        "ResourceType": "PROJECT",
    }
    wire.reply(_error_reply("ResourceNotFoundException", body))
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.describe_project(ProjectName="widgets")
    assert missing.value.response["Error"]["Message"] == "no project widgets"
    assert (missing.value.response["ResourceId"], missing.value.response["ResourceType"]) == ("widgets", "PROJECT")

    throttled = {"__type": "ThrottlingException", "message": "slow down", "QuotaCode": "q1", "ServiceCode": "lv"}
    wire.reply(_error_reply("ThrottlingException", throttled, {"Retry-After": "7"}))
    with pytest.raises(client.exceptions.ThrottlingException) as slow:
        client.detect_anomalies(ProjectName="widgets", ModelVersion="1", Body=b"x", ContentType="image/png")
    assert slow.value.response["RetryAfterSeconds"] == 7
    assert slow.value.response["QuotaCode"] == "q1"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"x-amzn-ErrorType": "ConflictException"}, {"message": "busy"}),
        ({}, {"__type": "ConflictException", "message": "busy"}),
        ({"x-amzn-ErrorType": "ConflictException:http://internal.example/"}, {"Message": "busy"}),
    ],
    ids=["header-only", "body-only", "header-with-suffix"],
)
def test_error_code_from_header_or_body(client: Any, wire: Wire, headers: dict[str, str], body: dict[str, Any]) -> None:
    wire.reply(CannedReply(status=409, body=json.dumps(body).encode(), headers=headers))
    with pytest.raises(client.exceptions.ConflictException) as caught:
        client.delete_project(ProjectName="widgets")
    assert caught.value.response["Error"] == {"Code": "ConflictException", "Message": "busy"}


def test_throttling_is_retried_by_standard_mode() -> None:
    client = make_client(retries={"mode": "standard", "total_max_attempts": 2})
    wire = Wire(client)
    wire.reply(
        _error_reply("ThrottlingException", {"__type": "ThrottlingException", "message": "slow down"}),
        CannedReply(body=b'{"Projects": []}'),
    )
    assert client.list_projects()["Projects"] == []
    assert len(wire.requests) == 2

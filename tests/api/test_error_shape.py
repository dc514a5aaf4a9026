"""Pins the one error shape on the wire and how boto3 reads it.

A test app instance gets test-only routes that raise each service error (and one unexpected exception) under the
DescribeProject path, so boto3 can call them as `describe_project(ProjectName="raise-<Code>")`.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import APIRouter, Depends, FastAPI

from service import app as app_module
from service.auth.dependency import require_signature
from service.errors import (
    AccessDeniedException,
    ConflictException,
    InternalServerException,
    ResourceNotFoundException,
    ServiceError,
    ServiceQuotaExceededException,
    ThrottlingException,
    ValidationException,
)
from service.settings import Settings
from tests.conftest import make_settings
from tests.helpers import live_server
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

RAISED: dict[str, ServiceError] = {
    error.code: error
    for error in [
        AccessDeniedException("not for you"),
        ValidationException("bad input"),
        ResourceNotFoundException("no such project", resource_id="widgets", resource_type="PROJECT"),
        ConflictException("busy project", resource_id="widgets", resource_type="PROJECT"),
        ServiceQuotaExceededException("too many", resource_id="widgets", resource_type="PROJECT", quota_code="L-1"),
        ThrottlingException("slow down", retry_after_seconds=7, quota_code="L-2"),
        InternalServerException("broken"),
    ]
}
STATUS = {
    "AccessDeniedException": 403,
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}
EXTRA_MEMBERS = {
    "ResourceNotFoundException": {"ResourceId": "widgets", "ResourceType": "PROJECT"},
    "ConflictException": {"ResourceId": "widgets", "ResourceType": "PROJECT"},
    "ServiceQuotaExceededException": {
        "ResourceId": "widgets",
        "ResourceType": "PROJECT",
        "QuotaCode": "L-1",
        "ServiceCode": "lookoutvision",
    },
    "ThrottlingException": {"QuotaCode": "L-2", "ServiceCode": "lookoutvision"},
}
SECRET_DETAIL = "connection string postgres://admin:hunter2@db"


def app_with_raising_routes(settings: Settings) -> FastAPI:
    """The production app plus test-only routes placed ahead of the real DescribeProject route."""
    app = app_module.create_app(settings)
    router = APIRouter(prefix="/2020-11-20", dependencies=[Depends(require_signature)])

    @router.get("/projects/raise-unexpected", name="describe_project")  # the DescribeProject access rule applies
    def raise_unexpected() -> None:
        raise RuntimeError(SECRET_DETAIL)

    @router.get("/projects/raise-{code}", name="describe_project")
    def raise_service_error(code: str) -> None:
        raise RAISED[code]

    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[:0] = added
    return app


@pytest.fixture(scope="module")
def test_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(live_server, "create_app", app_with_raising_routes)
        with live_server.run_live_server(make_settings(tmp_path_factory.mktemp("error-shape"))) as live:
            yield live


@pytest.fixture(scope="module")
def client(test_server: LiveServer) -> Any:
    return test_server.boto3_client(config=Config(retries={"total_max_attempts": 1}))


def signed_get(server: LiveServer, path: str) -> httpx.Response:
    headers = signed_headers(
        "GET", server.url + path, access_key_id=server.access_key_id, secret_access_key=server.secret_access_key
    )
    return httpx.get(server.url + path, headers=headers)


def assert_error_shape(response: httpx.Response, code: str, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["x-amzn-ErrorType"] == code
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["__type"] == code
    assert isinstance(body["Message"], str) and body["Message"]
    return body


@pytest.mark.parametrize("code", sorted(RAISED))
def test_service_error_wire_shape(test_server: LiveServer, code: str) -> None:
    response = signed_get(test_server, f"/2020-11-20/projects/raise-{code}")
    body = assert_error_shape(response, code, STATUS[code])
    assert body == {"__type": code, "Message": RAISED[code].message, **EXTRA_MEMBERS.get(code, {})}
    assert ("retry-after" in response.headers) == (code == "ThrottlingException")


def test_throttling_carries_retry_after(test_server: LiveServer) -> None:
    response = signed_get(test_server, "/2020-11-20/projects/raise-ThrottlingException")
    assert response.headers["Retry-After"] == "7"


@pytest.mark.parametrize("code", sorted(RAISED))
def test_boto3_maps_each_error_to_its_client_error(client: Any, code: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_project(ProjectName=f"raise-{code}")
    assert isinstance(excinfo.value, getattr(client.exceptions, code))
    response = excinfo.value.response
    assert response["Error"] == {"Code": code, "Message": RAISED[code].message}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == STATUS[code]
    for member, value in EXTRA_MEMBERS.get(code, {}).items():
        assert response[member] == value
    if code == "ThrottlingException":
        assert response["RetryAfterSeconds"] == 7


def test_unexpected_exception_is_an_opaque_internal_error(test_server: LiveServer, client: Any) -> None:
    body = assert_error_shape(
        signed_get(test_server, "/2020-11-20/projects/raise-unexpected"), "InternalServerException", 500
    )
    assert "hunter2" not in body["Message"] and "RuntimeError" not in body["Message"]
    with pytest.raises(client.exceptions.InternalServerException):
        client.describe_project(ProjectName="raise-unexpected")


def test_unknown_route_is_unknown_operation(test_server: LiveServer) -> None:
    assert_error_shape(signed_get(test_server, "/2020-11-20/no-such-thing"), "UnknownOperationException", 400)


def test_wrong_method_is_a_validation_error(test_server: LiveServer) -> None:
    path = "/2020-11-20/projects"
    url = test_server.url + path
    headers = signed_headers(
        "PUT", url, access_key_id=test_server.access_key_id, secret_access_key=test_server.secret_access_key
    )
    assert_error_shape(httpx.put(url, headers=headers), "ValidationException", 400)


@pytest.mark.parametrize(
    ("body", "message_part"), [(b"{}", "ProjectName"), (b"{not json", "JSON"), (b'{"ProjectName": 7}', "ProjectName")]
)
def test_malformed_request_body_is_a_validation_error(test_server: LiveServer, body: bytes, message_part: str) -> None:
    url = test_server.url + "/2020-11-20/projects"
    headers = signed_headers(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "application/json"},
        access_key_id=test_server.access_key_id,
        secret_access_key=test_server.secret_access_key,
    )
    error = assert_error_shape(httpx.post(url, content=body, headers=headers), "ValidationException", 400)
    assert message_part in error["Message"]


def test_boto3_reads_a_request_validation_error(client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.create_project(ProjectName="bad name with spaces")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_auth_failure_has_the_same_shape(test_server: LiveServer) -> None:
    body = assert_error_shape(httpx.get(test_server.url + "/2020-11-20/projects"), "AccessDeniedException", 403)
    assert set(body) == {"__type", "Message"}

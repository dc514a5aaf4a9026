"""The role matrix: every operation of the live app, AWS and extension, called with a key of every role.

`ALLOWED` is the specification, one row per operation, written here independently of `service.auth.roles`. The
operations are read from the live app's routes (its OpenAPI document), so a route added without a row here, or
without a rule in the service's table, fails the suite.
"""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sdk.boto import data_path
from service.api.docs import OPENAPI_PATH
from service.auth.keys import IssuedKey
from service.auth.roles import OPERATION_ROLES, Role
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

ADMIN, REVIEWER, INFERENCE = "admin", "reviewer", "inference"

# operation: the roles that may call it (admin may call everything)
ALLOWED: dict[str, set[str]] = {
    "CreateProject": {ADMIN},
    "DescribeProject": {ADMIN, REVIEWER, INFERENCE},
    "ListProjects": {ADMIN, REVIEWER, INFERENCE},
    "DeleteProject": {ADMIN},
    "CreateDataset": {ADMIN},
    "DescribeDataset": {ADMIN, REVIEWER, INFERENCE},
    "DeleteDataset": {ADMIN},
    "ListDatasetEntries": {ADMIN, REVIEWER, INFERENCE},
    "ListDatasetProblems": {ADMIN, REVIEWER, INFERENCE},
    "UpdateDatasetEntries": {ADMIN},
    "UploadDatasetImages": {ADMIN},
    "ImportDatasetEntries": {ADMIN},
    "CreateModel": {ADMIN},
    "DescribeModel": {ADMIN, REVIEWER, INFERENCE},
    "ListModels": {ADMIN, REVIEWER, INFERENCE},
    "DeleteModel": {ADMIN},
    "DescribeTrainingJob": {ADMIN},
    "DescribeModelEvaluation": {ADMIN},
    "GetModelCurves": {ADMIN},
    "UpdateModelThreshold": {ADMIN},
    "ListThresholdHistory": {ADMIN},
    "StartModel": {ADMIN},
    "StopModel": {ADMIN},
    "DetectAnomalies": {ADMIN, INFERENCE},
    "ListDetections": {ADMIN},
    "StartShadowModel": {ADMIN},
    "DescribeShadowComparison": {ADMIN},
    "PromoteShadowModel": {ADMIN},
    "StopShadowModel": {ADMIN},
    "SendShadowDisagreementsToReview": {ADMIN},
    "StartModelPackagingJob": {ADMIN},
    "DescribeModelPackagingJob": {ADMIN},
    "ListModelPackagingJobs": {ADMIN},
    "TagResource": {ADMIN},
    "UntagResource": {ADMIN},
    "ListTagsForResource": {ADMIN},
    "CreateAccessKey": {ADMIN},
    "ListAccessKeys": {ADMIN},
    # human review
    "ListReviewTasks": {ADMIN, REVIEWER},
    "ClaimReviewTask": {ADMIN, REVIEWER},
    "DescribeReviewTask": {ADMIN, REVIEWER},
    "CompleteReviewTask": {ADMIN, REVIEWER},
    "ReleaseReviewTask": {ADMIN, REVIEWER},
    "SkipReviewTask": {ADMIN, REVIEWER},
    "PutReviewPolicy": {ADMIN},
    "DescribeReviewPolicy": {ADMIN},
    "AddReviewsToDataset": {ADMIN},
    "DescribeReviewStatistics": {ADMIN},
    # the API's own OpenAPI description, for every signed caller
    "DescribeApi": {ADMIN, REVIEWER, INFERENCE},
    "DeleteAccessKey": {ADMIN},
}
ROLES = (ADMIN, REVIEWER, INFERENCE)
API_PREFIX = "/2020-11-20/"

# Path parameters name things that do not exist, so an admitted call fails on the resource and changes nothing.
MISSING_PROJECT = "no-such-project-for-roles"
PATH_VALUES = {
    "project_name": MISSING_PROJECT,
    "dataset_type": "train",
    "model_version": "1",
    "job_name": "no-such-job",
    "resource_arn": quote(f"arn:aws:lookoutvision:us-east-1:000000000000:project/{MISSING_PROJECT}", safe=""),
    "access_key_id": "LVAKNOSUCHKEY0000000",
    "task_id": "999999",
}


@pytest.fixture(scope="module")
def keys(server: LiveServer) -> Iterator[dict[str, tuple[str, str]]]:
    """(access key id, secret) of a key of every role."""
    issued: list[IssuedKey] = [
        server.context.keys.create(role=Role(role), description=f"role matrix {role}") for role in (REVIEWER, INFERENCE)
    ]
    yield {
        ADMIN: (server.access_key_id, server.secret_access_key),
        **{key.record.role: (key.access_key_id, key.secret_access_key) for key in issued},
    }
    for key in issued:
        server.context.keys.delete(key.access_key_id, caller=server.access_key_id)


@pytest.fixture(scope="module")
def routes(server: LiveServer, keys: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """operation name -> (HTTP method, path template) of every API route of the live app, and the document itself."""
    document = call(server, keys[ADMIN], "GET", OPENAPI_PATH).json()
    found: dict[str, tuple[str, str]] = {"DescribeApi": ("GET", OPENAPI_PATH)}
    for path, operations in document["paths"].items():
        if path.startswith(API_PREFIX):
            for method, operation in operations.items():
                assert operation["operationId"] not in found, f"two routes serve {operation['operationId']}"
                found[operation["operationId"]] = (method.upper(), path)
    return found


def call(server: LiveServer, key: tuple[str, str], method: str, path: str) -> httpx.Response:
    url = server.url + path.format(**PATH_VALUES)
    body = b"{}" if method in {"POST", "PUT", "PATCH"} else b""
    headers = {"Content-Type": "application/json"} if body else {}
    signed = signed_headers(
        method,
        url,
        body=body,
        headers=headers,
        access_key_id=key[0],
        secret_access_key=key[1],
        region=server.settings.region,
    )
    return httpx.request(method, url, content=body, headers=signed, timeout=60)


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json() if response.status_code >= 400 else {}


def test_every_route_has_a_row_here_and_a_rule_in_the_service(routes: dict[str, tuple[str, str]]) -> None:
    assert set(routes) - set(ALLOWED) == set(), "routes without a row in this test's ALLOWED table"
    assert set(ALLOWED) - set(routes) == set(), "rows of ALLOWED that the app no longer serves"
    assert set(routes) - set(OPERATION_ROLES) == set(), "routes without a rule in service.auth.roles.OPERATION_ROLES"
    assert set(OPERATION_ROLES) - set(routes) == set(), "rules in service.auth.roles for operations nobody serves"


def test_every_operation_of_the_service_model_is_served(routes: dict[str, tuple[str, str]]) -> None:
    model = json.loads((data_path() / "lookoutvision" / "2020-11-20" / "service-2.json").read_text())
    for name, operation in model["operations"].items():
        assert name in routes, f"{name} is in the service model but no route serves it"
        assert operation["http"]["method"] == routes[name][0], name


def is_read(operation: str) -> bool:
    return operation.startswith(("Describe", "List"))


def is_review_queue(operation: str) -> bool:
    return operation.endswith(("ReviewTask", "ReviewTasks"))


def test_roles_other_than_admin_only_read_detect_or_review() -> None:
    for operation, roles in ALLOWED.items():
        assert ADMIN in roles, operation
        if INFERENCE in roles:
            assert (is_read(operation) and not is_review_queue(operation)) or operation == "DetectAnomalies", operation
        if REVIEWER in roles:
            assert is_read(operation) or is_review_queue(operation), operation
            assert is_review_queue(operation) or INFERENCE in roles, (
                f"{operation}: inference keys read what reviewers read"
            )


@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_role_matrix(
    server: LiveServer, keys: dict[str, tuple[str, str]], routes: dict[str, tuple[str, str]], operation: str
) -> None:
    method, path = routes[operation]
    for role in ROLES:
        response = call(server, keys[role], method, path)
        assert response.status_code < 500, f"{role} {operation}: {response.text}"
        error = error_of(response)
        if role in ALLOWED[operation]:
            assert error.get("__type") != "AccessDeniedException", f"{role} was refused {operation}: {response.text}"
        else:
            assert response.status_code == 403, f"{role} was admitted to {operation}: {response.text}"
            assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
            assert error["Message"] == f"Role '{role}' may not call {operation}."


def test_reading_roles_read_a_real_project(
    server: LiveServer, keys: dict[str, tuple[str, str]], lv: Any, project_name: str
) -> None:
    lv.create_project(ProjectName=project_name)
    try:
        for role in (REVIEWER, INFERENCE):
            listed = call(server, keys[role], "GET", "/2020-11-20/projects")
            assert listed.status_code == 200
            assert isinstance(listed.json()["Projects"], list)
            described = call(server, keys[role], "GET", f"/2020-11-20/projects/{project_name}")
            assert described.status_code == 200
            assert described.json()["ProjectDescription"]["ProjectName"] == project_name
            deleted = call(server, keys[role], "DELETE", f"/2020-11-20/projects/{project_name}")
            assert deleted.status_code == 403
        assert lv.describe_project(ProjectName=project_name)["ProjectDescription"]["ProjectName"] == project_name
    finally:
        lv.delete_project(ProjectName=project_name)

"""Bad paging tokens and filters are ValidationExceptions on every List operation, never 500s (issue 11, item 5)."""

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from service.api.pagination import encode_token
from service.db.engine import MAX_INTEGER
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

LIST_OPERATIONS = {  # operation: (path under /2020-11-20, the key of its cursor)
    "ListProjects": ("/projects", "after"),
    "ListModels": ("/projects/{p}/models", "below"),
    "ListDatasetEntries": ("/projects/{p}/datasets/train/entries", "after"),
    "ListModelPackagingJobs": ("/projects/{p}/modelpackagingjobs", "below"),
    "ListThresholdHistory": ("/projects/{p}/models/1/threshold/history", "after"),
    "ListDetections": ("/projects/{p}/detections", "before"),
}


def _raw_token(cursor: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def get(server: LiveServer, path: str, query: dict[str, str]) -> httpx.Response:
    url = f"{server.url}/2020-11-20{path}?{urlencode(query, quote_via=quote)}"
    headers = signed_headers(
        "GET",
        url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.settings.region,
    )
    return httpx.get(url, headers=headers)


def assert_validation_error(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "ValidationException"


@pytest.fixture
def project(lv: Any, project_name: str) -> str:
    lv.create_project(ProjectName=project_name)
    lv.create_dataset(ProjectName=project_name, DatasetType="train")
    return project_name


@pytest.mark.parametrize("operation", sorted(LIST_OPERATIONS))
def test_a_next_token_whose_cursor_is_not_a_whole_number_is_a_validation_error(
    server: LiveServer, project: str, operation: str
) -> None:
    path, key = LIST_OPERATIONS[operation]
    tokens = [
        "eyJhZnRlciI6ICJhYmMifQ",  # {"after": "abc"}, as the probe sent it
        _raw_token({key: "abc"}),
        _raw_token({key: 1.5}),
        _raw_token({key: True}),
        _raw_token({key: None}),
        _raw_token({key: -1}),
        _raw_token({key: MAX_INTEGER + 1}),
        _raw_token({key: 10**30}),
        _raw_token([key]),
        "not base64!",
    ]
    for token in tokens:
        assert_validation_error(get(server, path.format(p=project), {"nextToken": token}))
    for cursor in (5, MAX_INTEGER):
        assert get(server, path.format(p=project), {"nextToken": encode_token({key: cursor})}).status_code != 500


@pytest.mark.parametrize("value", ["1e20", "-1e20", "inf", "nan", "yesterday"])
def test_created_before_and_after_out_of_range_are_validation_errors(
    server: LiveServer, project: str, value: str
) -> None:
    path = LIST_OPERATIONS["ListDatasetEntries"][0].format(p=project)
    assert_validation_error(get(server, path, {"createdBefore": value}))
    assert_validation_error(get(server, path, {"createdAfter": value}))


@pytest.mark.parametrize(
    "version", ["99999999999999999999999", str(MAX_INTEGER + 1), "\u00b2", "\u0661", "0", "-1", "1.0", " 1"]
)
def test_model_versions_that_are_not_small_positive_whole_numbers_are_validation_errors(
    server: LiveServer, project: str, version: str
) -> None:
    quoted = quote(version, safe="")
    for path in (
        f"/projects/{project}/models/{quoted}",
        f"/projects/{project}/models/{quoted}/threshold/history",
        f"/projects/{project}/models/{quoted}/training",
    ):
        assert_validation_error(get(server, path, {}))
    assert_validation_error(get(server, f"/projects/{project}/detections", {"modelVersion": version}))

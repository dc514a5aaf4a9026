"""openlv's botocore model for the human-review extensions: what boto3 sends, and that it parses the replies."""

import base64
import json
from typing import Any

import pytest

from tests.aws.wire import CannedReply, Wire, body_of, make_client, path_of, query_of

P = "/2020-11-20/projects/widgets"
REVIEW_CASES: list[tuple[str, dict[str, Any], str, str, dict[str, list[str]], dict[str, Any] | None]] = [
    (
        "put_review_policy",
        {
            "ProjectName": "widgets",
            "ModelVersion": "2",
            "ConfidenceBelow": 0.7,
            "ScoreBand": {"Low": 0.4, "High": 0.6},
            "SamplingPercent": 5.0,
            "AllAnomalous": True,
            "HourlyCap": 10,
            "DailyCap": 100,
            "Paused": False,
            "RequiredReviews": 2,
            "LeaseSeconds": 120,
            "TaskTimeToLiveSeconds": 3600,
        },
        "PUT",
        P + "/reviewpolicy",
        {},
        {
            "ModelVersion": "2",
            "ConfidenceBelow": 0.7,
            "ScoreBand": {"Low": 0.4, "High": 0.6},
            "SamplingPercent": 5.0,
            "AllAnomalous": True,
            "HourlyCap": 10,
            "DailyCap": 100,
            "Paused": False,
            "RequiredReviews": 2,
            "LeaseSeconds": 120,
            "TaskTimeToLiveSeconds": 3600,
        },
    ),
    (
        "describe_review_policy",
        {"ProjectName": "widgets", "ModelVersion": "2"},
        "GET",
        P + "/reviewpolicy",
        {"modelVersion": ["2"]},
        None,
    ),
    (
        "list_review_tasks",
        {
            "ProjectName": "widgets",
            "Status": "PENDING",
            "ModelVersion": "1",
            "Reason": "SAMPLED",
            "MaxResults": 5,
            "NextToken": "t1",
        },
        "GET",
        P + "/reviewtasks",
        {"status": ["PENDING"], "modelVersion": ["1"], "reason": ["SAMPLED"], "maxResults": ["5"], "nextToken": ["t1"]},
        None,
    ),
    ("claim_review_task", {"ProjectName": "widgets"}, "POST", P + "/reviewtasks/claim", {}, {}),
    (
        "claim_review_task",
        {"ProjectName": "widgets", "TaskId": "7"},
        "POST",
        P + "/reviewtasks/claim",
        {},
        {"TaskId": "7"},
    ),
    ("describe_review_task", {"ProjectName": "widgets", "TaskId": "7"}, "GET", P + "/reviewtasks/7", {}, None),
    (
        "complete_review_task",
        {"ProjectName": "widgets", "TaskId": "7", "Verdict": "anomaly", "Mask": b"\x89PNG", "Note": "crack"},
        "POST",
        P + "/reviewtasks/7/complete",
        {},
        {"Verdict": "anomaly", "Mask": base64.b64encode(b"\x89PNG").decode(), "Note": "crack"},
    ),
    ("release_review_task", {"ProjectName": "widgets", "TaskId": "7"}, "POST", P + "/reviewtasks/7/release", {}, None),
    ("skip_review_task", {"ProjectName": "widgets", "TaskId": "7"}, "POST", P + "/reviewtasks/7/skip", {}, None),
    (
        "add_reviews_to_dataset",
        {"ProjectName": "widgets", "DatasetType": "train", "TaskIds": ["7", "8"]},
        "POST",
        P + "/reviewtasks/dataset",
        {},
        {"DatasetType": "train", "TaskIds": ["7", "8"]},
    ),
    (
        "add_reviews_to_dataset",
        {"ProjectName": "widgets", "DatasetType": "test", "Filter": {"ModelVersion": "1", "Verdict": "anomaly"}},
        "POST",
        P + "/reviewtasks/dataset",
        {},
        {"DatasetType": "test", "Filter": {"ModelVersion": "1", "Verdict": "anomaly"}},
    ),
    (
        "describe_review_statistics",
        {"ProjectName": "widgets", "ModelVersion": "1"},
        "GET",
        P + "/models/1/reviewstatistics",
        {},
        None,
    ),
]


@pytest.fixture
def wire() -> tuple[Any, Wire]:
    client = make_client(retries={"total_max_attempts": 1})
    return client, Wire(client)


@pytest.mark.parametrize(
    ("method", "params", "http_method", "path", "query", "body"),
    REVIEW_CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(REVIEW_CASES)],
)
def test_review_operation_wire_shape(
    wire: tuple[Any, Wire],
    method: str,
    params: dict[str, Any],
    http_method: str,
    path: str,
    query: dict[str, list[str]],
    body: dict[str, Any] | None,
) -> None:
    client, recorded = wire
    getattr(client, method)(**params)
    request = recorded.last
    assert (request.method, path_of(request), query_of(request)) == (http_method, path, query)
    assert body_of(request) == body
    assert (
        "openlv extension"
        in client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method]).documentation
    )


def test_detect_anomalies_reply_with_human_review_parses(wire: tuple[Any, Wire]) -> None:
    client, recorded = wire
    result = {"Source": {"Type": "direct"}, "IsAnomalous": False, "Confidence": 0.6, "Anomalies": []}
    review = {"Routed": True, "TaskId": "12", "Reason": "LOW_CONFIDENCE"}
    recorded.reply(CannedReply(body=json.dumps({"DetectAnomalyResult": result, "HumanReview": review}).encode()))
    parsed = client.detect_anomalies(ProjectName="widgets", ModelVersion="1", Body=b"x", ContentType="image/png")
    assert parsed["HumanReview"] == review


def test_review_task_blobs_and_statistics_parse(wire: tuple[Any, Wire]) -> None:
    client, recorded = wire
    task = {
        "TaskId": "7",
        "Status": "CLAIMED",
        "Image": base64.b64encode(b"img").decode(),
        "Heatmap": base64.b64encode(b"heat").decode(),
        "RoutedAt": 1764640000.5,
        "Actions": [{"Reviewer": "LVAK1", "Action": "VERDICT", "Verdict": "normal", "ActedAt": 1764640001}],
    }
    recorded.reply(CannedReply(body=json.dumps({"ReviewTask": task}).encode()))
    parsed = client.describe_review_task(ProjectName="widgets", TaskId="7")["ReviewTask"]
    assert (parsed["Image"], parsed["Heatmap"]) == (b"img", b"heat")
    assert parsed["RoutedAt"].timestamp() == 1764640000.5 and parsed["Actions"][0]["Verdict"] == "normal"
    stats = {
        "Routed": 3,
        "RoutedByReason": {"SAMPLED": 1},
        "Precision": {"Estimate": 0.5, "Low": 0.1, "High": 0.9, "Successes": 1, "Trials": 2},
    }
    recorded.reply(CannedReply(body=json.dumps(stats).encode()))
    parsed_stats = client.describe_review_statistics(ProjectName="widgets", ModelVersion="1")
    assert parsed_stats["RoutedByReason"] == {"SAMPLED": 1} and parsed_stats["Precision"]["Trials"] == 2
    assert client.can_paginate("list_review_tasks")

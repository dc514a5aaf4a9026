"""openlv's botocore model for the shadow-mode extensions: what boto3 sends, and that it parses the replies."""

import json
import uuid
from typing import Any

import pytest

from tests.aws.wire import CannedReply, Wire, body_of, header_of, make_client, path_of, query_of

M = "/2020-11-20/projects/widgets/models/2/shadow"
SHADOW_CASES: list[tuple[str, dict[str, Any], str, str, dict[str, list[str]], dict[str, Any] | None]] = [
    (
        "start_shadow_model",
        {"ProjectName": "widgets", "ModelVersion": "2", "LiveModelVersion": "1", "SamplePercent": 25.0},
        "POST",
        M,
        {},
        {"LiveModelVersion": "1", "SamplePercent": 25.0},
    ),
    (
        "describe_shadow_comparison",
        {"ProjectName": "widgets", "ModelVersion": "2", "MaxDisagreements": 5},
        "GET",
        M,
        {"maxDisagreements": ["5"]},
        None,
    ),
    ("promote_shadow_model", {"ProjectName": "widgets", "ModelVersion": "2"}, "POST", M + "/promote", {}, None),
    ("stop_shadow_model", {"ProjectName": "widgets", "ModelVersion": "2"}, "POST", M + "/stop", {}, None),
    (
        "send_shadow_disagreements_to_review",
        {"ProjectName": "widgets", "ModelVersion": "2", "MaxTasks": 10},
        "POST",
        M + "/review",
        {},
        {"MaxTasks": 10},
    ),
]
IDEMPOTENT = {"start_shadow_model", "promote_shadow_model", "stop_shadow_model"}


@pytest.fixture
def wire() -> tuple[Any, Wire]:
    client = make_client(retries={"total_max_attempts": 1})
    return client, Wire(client)


@pytest.mark.parametrize(
    ("method", "params", "http_method", "path", "query", "body"), SHADOW_CASES, ids=[case[0] for case in SHADOW_CASES]
)
def test_shadow_operation_wire_shape(
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
    token = header_of(request, "X-Amzn-Client-Token")
    assert (token is not None and uuid.UUID(token) is not None) if method in IDEMPOTENT else token is None
    operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
    assert "openlv extension" in operation.documentation


def test_the_comparison_reply_parses(wire: tuple[Any, Wire]) -> None:
    client, recorded = wire
    reply = {
        "ShadowModel": {
            "LiveModelVersion": "1",
            "ShadowModelVersion": "2",
            "Status": "ACTIVE",
            "StartedAt": 1764640000,
        },
        "Compared": 3,
        "AgreementRate": 0.5,
        "Live": {"ModelVersion": "1", "LatencyP50Millis": 4.5},
        "DisagreementSamples": [
            {"ResultId": "9", "Direction": "SHADOW_ANOMALOUS", "Image": {"Bucket": "b", "Key": "shadow/1/x/image.png"}}
        ],
    }
    recorded.reply(CannedReply(body=json.dumps(reply).encode()))
    parsed = client.describe_shadow_comparison(ProjectName="widgets", ModelVersion="1")
    assert parsed["ShadowModel"]["StartedAt"].timestamp() == 1764640000
    assert parsed["Live"]["LatencyP50Millis"] == 4.5 and parsed["DisagreementSamples"][0]["Image"]["Key"].endswith(
        ".png"
    )

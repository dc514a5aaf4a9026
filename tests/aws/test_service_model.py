"""openlv's botocore model for lookoutvision 2020-11-20: what boto3 puts on the wire and how it reads replies.

No server: a ``before-send`` handler records each prepared request and answers with a canned response, so these
tests pin the exact HTTP shape the service must accept and send.
"""

import base64
import datetime as dt
import json
import uuid
from typing import Any

import botocore.exceptions
import pytest

from sdk.boto import data_path
from tests.aws.wire import ENDPOINT, CannedReply, Wire, body_of, header_of, path_of, query_of

MODEL_ARN = "arn:aws:lookoutvision:us-east-1:123456789012:model/widgets/1"

manifest = {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Key": "train.manifest", "VersionId": "v1"}}}
output = {"S3Location": {"Bucket": "results", "Prefix": "widgets/"}}
packaging = {
    "Greengrass": {
        "S3OutputLocation": {"Bucket": "edge"},
        "ComponentName": "widgets-model",
        "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"},
    }
}
jsonl = b'{"source-ref": "s3://images/a.png", "anomaly-label": 1}\n'

# (client method, params, HTTP method, path, query, JSON body or None for an empty body)
WIRE_CASES: list[tuple[str, dict[str, Any], str, str, dict[str, list[str]], dict[str, Any] | None]] = [
    ("create_project", {"ProjectName": "widgets"}, "POST", "/2020-11-20/projects", {}, {"ProjectName": "widgets"}),
    ("describe_project", {"ProjectName": "widgets"}, "GET", "/2020-11-20/projects/widgets", {}, None),
    (
        "list_projects",
        {"MaxResults": 5, "NextToken": "abc="},
        "GET",
        "/2020-11-20/projects",
        {"maxResults": ["5"], "nextToken": ["abc="]},
        None,
    ),
    ("delete_project", {"ProjectName": "widgets"}, "DELETE", "/2020-11-20/projects/widgets", {}, None),
    (
        "create_dataset",
        {"ProjectName": "widgets", "DatasetType": "train", "DatasetSource": manifest},
        "POST",
        "/2020-11-20/projects/widgets/datasets",
        {},
        {"DatasetType": "train", "DatasetSource": manifest},
    ),
    (
        "describe_dataset",
        {"ProjectName": "widgets", "DatasetType": "test"},
        "GET",
        "/2020-11-20/projects/widgets/datasets/test",
        {},
        None,
    ),
    (
        "delete_dataset",
        {"ProjectName": "widgets", "DatasetType": "test"},
        "DELETE",
        "/2020-11-20/projects/widgets/datasets/test",
        {},
        None,
    ),
    (
        "list_dataset_entries",
        {
            "ProjectName": "widgets",
            "DatasetType": "train",
            "Labeled": True,
            "AnomalyClass": "anomaly",
            "BeforeCreationDate": dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
            "AfterCreationDate": dt.datetime(2024, 1, 31, 12, 30, tzinfo=dt.UTC),
            "SourceRefContains": "IMG_17",
            "MaxResults": 10,
            "NextToken": "t0",
        },
        "GET",
        "/2020-11-20/projects/widgets/datasets/train/entries",
        {
            "labeled": ["true"],
            "anomalyClass": ["anomaly"],
            "createdBefore": ["2024-03-02T00:00:00Z"],
            "createdAfter": ["2024-01-31T12:30:00Z"],
            "sourceRefContains": ["IMG_17"],
            "maxResults": ["10"],
            "nextToken": ["t0"],
        },
        None,
    ),
    (
        "update_dataset_entries",
        {"ProjectName": "widgets", "DatasetType": "train", "Changes": jsonl},
        "PATCH",
        "/2020-11-20/projects/widgets/datasets/train/entries",
        {},
        {"Changes": base64.b64encode(jsonl).decode()},
    ),
    (
        "create_model",
        {
            "ProjectName": "widgets",
            "OutputConfig": output,
            "Description": "first",
            "KmsKeyId": "key-1",
            "Tags": [{"Key": "line", "Value": "7"}],
        },
        "POST",
        "/2020-11-20/projects/widgets/models",
        {},
        {"OutputConfig": output, "Description": "first", "KmsKeyId": "key-1", "Tags": [{"Key": "line", "Value": "7"}]},
    ),
    (
        "describe_model",
        {"ProjectName": "widgets", "ModelVersion": "latest"},
        "GET",
        "/2020-11-20/projects/widgets/models/latest",
        {},
        None,
    ),
    (
        "list_models",
        {"ProjectName": "widgets", "MaxResults": 100},
        "GET",
        "/2020-11-20/projects/widgets/models",
        {"maxResults": ["100"]},
        None,
    ),
    (
        "delete_model",
        {"ProjectName": "widgets", "ModelVersion": "3"},
        "DELETE",
        "/2020-11-20/projects/widgets/models/3",
        {},
        None,
    ),
    (
        "start_model",
        {"ProjectName": "widgets", "ModelVersion": "1", "MinInferenceUnits": 1, "MaxInferenceUnits": 4},
        "POST",
        "/2020-11-20/projects/widgets/models/1/start",
        {},
        {"MinInferenceUnits": 1, "MaxInferenceUnits": 4},
    ),
    (
        "stop_model",
        {"ProjectName": "widgets", "ModelVersion": "1"},
        "POST",
        "/2020-11-20/projects/widgets/models/1/stop",
        {},
        None,
    ),
    (
        "tag_resource",
        {"ResourceArn": MODEL_ARN, "Tags": [{"Key": "owner", "Value": "qa"}]},
        "POST",
        "/2020-11-20/tags/arn%3Aaws%3Alookoutvision%3Aus-east-1%3A123456789012%3Amodel%2Fwidgets%2F1",
        {},
        {"Tags": [{"Key": "owner", "Value": "qa"}]},
    ),
    (
        "untag_resource",
        {"ResourceArn": MODEL_ARN, "TagKeys": ["owner", "line"]},
        "DELETE",
        "/2020-11-20/tags/arn%3Aaws%3Alookoutvision%3Aus-east-1%3A123456789012%3Amodel%2Fwidgets%2F1",
        {"tagKeys": ["owner", "line"]},
        None,
    ),
    (
        "list_tags_for_resource",
        {"ResourceArn": MODEL_ARN},
        "GET",
        "/2020-11-20/tags/arn%3Aaws%3Alookoutvision%3Aus-east-1%3A123456789012%3Amodel%2Fwidgets%2F1",
        {},
        None,
    ),
    (
        "start_model_packaging_job",
        {
            "ProjectName": "widgets",
            "ModelVersion": "1",
            "JobName": "edge-1",
            "Configuration": packaging,
            "Description": "for line 7",
        },
        "POST",
        "/2020-11-20/projects/widgets/modelpackagingjobs",
        {},
        {"ModelVersion": "1", "JobName": "edge-1", "Configuration": packaging, "Description": "for line 7"},
    ),
    (
        "describe_model_packaging_job",
        {"ProjectName": "widgets", "JobName": "edge-1"},
        "GET",
        "/2020-11-20/projects/widgets/modelpackagingjobs/edge-1",
        {},
        None,
    ),
    (
        "list_model_packaging_jobs",
        {"ProjectName": "widgets", "NextToken": "p2"},
        "GET",
        "/2020-11-20/projects/widgets/modelpackagingjobs",
        {"nextToken": ["p2"]},
        None,
    ),
]

IDEMPOTENT = {
    "CreateProject",
    "DeleteProject",
    "CreateDataset",
    "DeleteDataset",
    "UpdateDatasetEntries",
    "CreateModel",
    "DeleteModel",
    "StartModel",
    "StopModel",
    "StartModelPackagingJob",
}


def test_model_metadata_and_every_operation(client: Any) -> None:
    model = client.meta.service_model
    assert (model.protocol, model.api_version, model.endpoint_prefix) == ("rest-json", "2020-11-20", "lookoutvision")
    assert (model.service_id, model.signing_name, model.signature_version) == ("LookoutVision", "lookoutvision", "v4")
    covered = {client.meta.method_to_api_mapping[name] for name, *_ in WIRE_CASES} | {"DetectAnomalies"}
    assert len(covered) == 22, "every Lookout for Vision operation has a wire case"
    assert covered <= set(model.operation_names)
    for name in set(model.operation_names) - covered:
        assert "openlv extension" in model.operation_model(name).documentation, f"{name} is not documented as such"


def test_model_is_found_in_openlv_data_folder() -> None:
    service_file = data_path() / "lookoutvision" / "2020-11-20" / "service-2.json"
    model = json.loads(service_file.read_text())
    assert model["metadata"]["uid"] == "lookoutvision-2020-11-20"
    assert {"paginators-1.json", "endpoint-rule-set-1.json"} <= {p.name for p in service_file.parent.iterdir()}


@pytest.mark.parametrize(
    ("method", "params", "http_method", "path", "query", "body"), WIRE_CASES, ids=[case[0] for case in WIRE_CASES]
)
def test_operation_wire_shape(
    client: Any,
    wire: Wire,
    method: str,
    params: dict[str, Any],
    http_method: str,
    path: str,
    query: dict[str, list[str]],
    body: dict[str, Any] | None,
) -> None:
    getattr(client, method)(**params)
    request = wire.last
    assert request.method == http_method
    assert request.url.startswith(ENDPOINT + "/2020-11-20/")
    assert path_of(request) == path
    assert query_of(request) == query
    assert body_of(request) == body
    if body is not None:
        assert header_of(request, "Content-Type") == "application/json"
    authorization = header_of(request, "Authorization") or ""
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDOPENLVTEST/")
    assert "/us-east-1/lookoutvision/aws4_request" in authorization
    operation = client.meta.method_to_api_mapping[method]
    token = header_of(request, "X-Amzn-Client-Token")
    if operation in IDEMPOTENT:
        assert token is not None and uuid.UUID(token)
    else:
        assert token is None


def test_explicit_client_token_is_sent_verbatim(client: Any, wire: Wire) -> None:
    client.stop_model(ProjectName="widgets", ModelVersion="2", ClientToken="retry-7")
    assert header_of(wire.last, "X-Amzn-Client-Token") == "retry-7"


def test_generated_client_tokens_differ_per_call(client: Any, wire: Wire) -> None:
    client.create_project(ProjectName="a")
    client.create_project(ProjectName="b")
    first, second = (header_of(r, "X-Amzn-Client-Token") for r in wire.requests)
    assert first != second


def test_create_model_extension_members(client: Any, wire: Wire) -> None:
    client.create_model(
        ProjectName="widgets",
        OutputConfig=output,
        Algorithm="padim",
        Hyperparameters={"n_features": "100", "layers": "layer1,layer2"},
        BackboneWeights="/models/resnet18.pt",
        ImageSize=256,
    )
    assert body_of(wire.last) == {
        "OutputConfig": output,
        "Algorithm": "padim",
        "Hyperparameters": {"n_features": "100", "layers": "layer1,layer2"},
        "BackboneWeights": "/models/resnet18.pt",
        "ImageSize": 256,
    }


def test_threshold_confidence_members(client: Any, wire: Wire) -> None:
    client.update_model_threshold(
        ProjectName="widgets", ModelVersion="1", Policy="TARGET_RECALL", Value=0.99, Confidence=0.95
    )
    assert (wire.last.method, path_of(wire.last)) == ("PUT", "/2020-11-20/projects/widgets/models/1/threshold")
    assert body_of(wire.last) == {"Policy": "TARGET_RECALL", "Value": 0.99, "Confidence": 0.95}
    interval = {"Estimate": 1.0, "Lower": 0.95, "Upper": 1.0, "Successes": 60, "Trials": 60}
    target = {
        "Metric": "Recall",
        "Value": 0.95,
        "Estimate": 1.0,
        "Confidence": 0.95,
        "Bound": 0.951,
        "BoundSide": "LOWER",
    }
    reply = {"Threshold": 0.42, "Intervals": {"ConfidenceLevel": 0.9, "Recall": interval}, "Target": target}
    wire.reply(CannedReply(body=json.dumps(reply).encode()))
    parsed = client.describe_model_evaluation(ProjectName="widgets", ModelVersion="1", Confidence=0.9)
    assert query_of(wire.last) == {"confidence": ["0.9"]}
    assert parsed["Intervals"]["Recall"] == interval and parsed["Target"] == target
    bands = {"Roc": {"TruePositiveRateLower": [0.0, 0.5], "FalsePositiveRateUpper": [0.3, 1.0]}, "ConfidenceLevel": 0.9}
    wire.reply(CannedReply(body=json.dumps(bands).encode()))
    curves = client.get_model_curves(ProjectName="widgets", ModelVersion="1", Confidence=0.9)
    assert query_of(wire.last) == {"confidence": ["0.9"]}
    assert curves["Roc"] == bands["Roc"] and curves["ConfidenceLevel"] == 0.9


def test_create_model_sends_the_tile_size(client: Any, wire: Wire) -> None:
    client.create_model(ProjectName="widgets", OutputConfig=output, ImageSize=128, TileSize="auto")
    assert body_of(wire.last) == {"OutputConfig": output, "ImageSize": 128, "TileSize": "auto"}
    with pytest.raises(botocore.exceptions.ParamValidationError):
        client.create_model(ProjectName="widgets", OutputConfig=output, TileSize="")


def test_image_size_below_minimum_is_refused_client_side(client: Any, wire: Wire) -> None:
    with pytest.raises(botocore.exceptions.ParamValidationError):
        client.create_model(ProjectName="widgets", OutputConfig=output, ImageSize=32)
    assert wire.requests == []


def test_model_description_echoes_extension_members(client: Any, wire: Wire) -> None:
    created = 1_717_171_717.5
    description = {
        "ModelVersion": "1",
        "Status": "TRAINED",
        "CreationTimestamp": created,
        "Algorithm": "patchcore",
        "Hyperparameters": {"coreset_ratio": "0.1"},
        "Performance": {"F1Score": 0.9, "Recall": 1.0, "Precision": 0.8},
    }
    wire.reply(CannedReply(body=json.dumps({"ModelDescription": description}).encode()))
    parsed = client.describe_model(ProjectName="widgets", ModelVersion="1")["ModelDescription"]
    assert parsed["Algorithm"] == "patchcore"
    assert parsed["Hyperparameters"] == {"coreset_ratio": "0.1"}
    assert parsed["CreationTimestamp"].timestamp() == created
    assert parsed["Performance"]["F1Score"] == pytest.approx(0.9)

    listing = {"Models": [{"ModelVersion": "1", "Status": "TRAINED", "Algorithm": "stfpm"}]}
    wire.reply(CannedReply(body=json.dumps(listing).encode()))
    assert client.list_models(ProjectName="widgets")["Models"][0]["Algorithm"] == "stfpm"


def test_detect_anomalies_sends_raw_image_bytes(client: Any, wire: Wire) -> None:
    image = bytes(range(256)) * 4
    mask = b"\x89PNG\r\n\x1a\nmask"
    result = {
        "Source": {"Type": "direct"},
        "IsAnomalous": True,
        "Confidence": 0.97,
        "Anomalies": [{"Name": "background", "PixelAnomaly": {"TotalPercentageArea": 0.9, "Color": "#FFFFFF"}}],
        "AnomalyMask": base64.b64encode(mask).decode(),
    }
    wire.reply(CannedReply(body=json.dumps({"DetectAnomalyResult": result}).encode()))
    parsed = client.detect_anomalies(ProjectName="widgets", ModelVersion="2", Body=image, ContentType="image/png")
    request = wire.last
    assert (request.method, path_of(request)) == ("POST", "/2020-11-20/projects/widgets/models/2/detect")
    assert header_of(request, "Content-Type") == "image/png"
    assert header_of(request, "Content-Length") == str(len(image))
    sent = request.body if isinstance(request.body, bytes) else request.body.read()
    assert sent == image
    detection = parsed["DetectAnomalyResult"]
    assert detection["IsAnomalous"] is True
    assert detection["AnomalyMask"] == mask
    assert detection["Anomalies"][0]["PixelAnomaly"]["Color"] == "#FFFFFF"


def test_detect_anomalies_accepts_a_file(client: Any, wire: Wire, tmp_path: Any) -> None:
    picture = tmp_path / "part.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0jpeg-bytes")
    with picture.open("rb") as handle:
        client.detect_anomalies(ProjectName="widgets", ModelVersion="1", Body=handle, ContentType="image/jpeg")
        body = wire.last.body
        sent = body.read() if hasattr(body, "read") else body
    assert sent == picture.read_bytes()
    assert header_of(wire.last, "Content-Type") == "image/jpeg"


@pytest.mark.parametrize(
    "operation",
    ["list_projects", "list_models", "list_dataset_entries", "list_dataset_problems", "list_model_packaging_jobs"],
)
def test_paginators_load(client: Any, operation: str) -> None:
    assert client.can_paginate(operation)
    assert client.get_paginator(operation) is not None


def test_paginator_follows_next_token(client: Any, wire: Wire) -> None:
    wire.reply(
        CannedReply(body=json.dumps({"Projects": [{"ProjectName": "a"}], "NextToken": "page2"}).encode()),
        CannedReply(body=json.dumps({"Projects": [{"ProjectName": "b"}]}).encode()),
    )
    pages = client.get_paginator("list_projects").paginate(PaginationConfig={"PageSize": 1})
    names = [p["ProjectName"] for p in pages.search("Projects[]")]
    assert names == ["a", "b"]
    assert [query_of(r) for r in wire.requests] == [
        {"maxResults": ["1"]},
        {"maxResults": ["1"], "nextToken": ["page2"]},
    ]


def test_access_key_operations_wire_shape(client: Any, wire: Wire) -> None:
    new_key = {
        "AccessKeyId": "LVAKNEW",
        "SecretAccessKey": "s3cret",
        "Role": "reviewer",
        "Description": "line 7",
        "CreationTimestamp": 1700000000.5,
    }
    wire.reply(CannedReply(body=json.dumps({"AccessKey": new_key}).encode()))
    created = client.create_access_key(Role="reviewer", Description="line 7")
    assert (wire.last.method, path_of(wire.last)) == ("POST", "/2020-11-20/accesskeys")
    assert body_of(wire.last) == {"Role": "reviewer", "Description": "line 7"}
    assert header_of(wire.last, "X-Amzn-Client-Token") is None, (
        "a retried create would otherwise replay a stored secret"
    )
    assert created["AccessKey"]["SecretAccessKey"] == "s3cret"
    assert created["AccessKey"]["CreationTimestamp"] == dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=dt.UTC)

    wire.reply(CannedReply(body=b'{"AccessKeys": [{"AccessKeyId": "LVAKNEW", "Role": "reviewer"}]}'))
    listed = client.list_access_keys(MaxResults=5, NextToken="t1")
    assert (wire.last.method, path_of(wire.last), query_of(wire.last)) == (
        "GET",
        "/2020-11-20/accesskeys",
        {"maxResults": ["5"], "nextToken": ["t1"]},
    )
    assert listed["AccessKeys"] == [{"AccessKeyId": "LVAKNEW", "Role": "reviewer"}]
    assert client.can_paginate("list_access_keys")

    wire.reply(CannedReply(body=b'{"AccessKeyId": "LVAKNEW"}'))
    client.delete_access_key(AccessKeyId="LVAKNEW")
    assert (wire.last.method, path_of(wire.last), body_of(wire.last)) == (
        "DELETE",
        "/2020-11-20/accesskeys/LVAKNEW",
        None,
    )


def test_access_key_role_is_checked_client_side(client: Any, wire: Wire) -> None:
    with pytest.raises(botocore.exceptions.ParamValidationError):
        client.create_access_key()
    assert wire.requests == []

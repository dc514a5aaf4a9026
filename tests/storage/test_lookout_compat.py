"""A Lookout for Vision migration through boto3 against a live service on S3 (moto_server): the customer's own bucket
holds the images and the Ground Truth manifests (AWS's CSV-to-manifest shape: string labels, labels under the labelling
job's attribute name), and receives the training outputs."""

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_settings
from tests.helpers.data import mask_png_bytes, png_bytes
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.manifests import wait_for_dataset
from tests.helpers.s3_server import S3Server
from tests.jobs.seed import FAST_TRAINING, synthetic_images

SERVICE_BUCKET = "openlv-compat"
TRAINING_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def s3_service(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home: Path = tmp_path_factory.mktemp("lv-home-compat")
    with run_live_server(make_settings(home, **s3_server.settings_overrides(SERVICE_BUCKET))) as live:
        yield live


@pytest.fixture
def customer(s3_server: S3Server) -> "CustomerBucket":
    return CustomerBucket(s3_server.boto3_client(), f"customer-{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["customer-bucket", "service-bucket"])
def source(request: pytest.FixtureRequest, s3_server: S3Server, s3_service: LiveServer) -> "CustomerBucket":
    """Where the manifests and images are: the customer's bucket, or the service's own (manifest rules alone)."""
    if request.param == "customer-bucket":
        return request.getfixturevalue("customer")
    return CustomerBucket(s3_server.boto3_client(), SERVICE_BUCKET, create=False, prefix=f"{uuid.uuid4().hex[:8]}/")


class CustomerBucket:
    """The customer's own bucket, written with plain boto3 S3 calls as a migrating user would."""

    def __init__(self, s3: Any, name: str, *, create: bool = True, prefix: str = "") -> None:
        self.s3, self.name, self.prefix = s3, name, prefix
        if create:
            s3.create_bucket(Bucket=name)

    def put(self, key: str, data: bytes) -> str:
        self.s3.put_object(Bucket=self.name, Key=self.prefix + key, Body=data)
        return f"s3://{self.name}/{self.prefix}{key}"

    def put_manifest(self, key: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        self.put(key, "".join(json.dumps(line) + "\n" for line in lines).encode())
        return {"GroundTruthManifest": {"S3Object": {"Bucket": self.name, "Key": self.prefix + key}}}

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()

    def keys(self, prefix: str = "") -> set[str]:
        listed = self.s3.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return {item["Key"] for item in listed.get("Contents", [])}


def csv_tool_line(
    source_ref: str, label: str, *, attribute: str = "anomaly-label", text: bool = True
) -> dict[str, Any]:
    """A line as AWS's CSV-to-manifest example writes it (the label as a string unless `text=False`), under
    `attribute`."""
    value = 1 if label == "anomaly" else 0
    return {
        "source-ref": source_ref,
        attribute: str(value) if text else value,
        f"{attribute}-metadata": {
            "confidence": 1,
            "job-name": "labeling-job/anomaly-classification",
            "class-name": label,
            "human-annotated": "yes",
            "creation-date": "2021-04-01T00:00:00.000",
            "type": "groundtruth/image-classification",
        },
    }


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def listed_entries(lv: Any, project: str, dataset_type: str = "train") -> dict[str, dict[str, Any]]:
    pages = lv.get_paginator("list_dataset_entries").paginate(ProjectName=project, DatasetType=dataset_type)
    return {line["source-ref"]: line for page in pages for line in map(json.loads, page["DatasetEntries"])}


def stats(lv: Any, project: str, dataset_type: str = "train") -> dict[str, int]:
    return wait_for_dataset(lv, project, dataset_type)["ImageStats"]


def test_a_manifest_with_string_labels_under_a_job_attribute(s3_service: LiveServer, source: CustomerBucket) -> None:
    lv, project = s3_service.boto3_client(), f"widgets-{uuid.uuid4().hex[:6]}"
    refs = [source.put(f"images/{index}.png", png_bytes(seed=600 + index)) for index in range(4)]
    lines = [
        csv_tool_line(refs[0], "normal"),
        csv_tool_line(refs[1], "anomaly"),
        csv_tool_line(refs[2], "normal", attribute="auto-label"),
        csv_tool_line(refs[3], "anomaly", attribute="auto-label"),
    ]
    lv.create_project(ProjectName=project)
    created = lv.create_dataset(
        ProjectName=project, DatasetType="train", DatasetSource=source.put_manifest("manifests/train.manifest", lines)
    )
    assert created["DatasetMetadata"]["StatusMessage"] == "The dataset is creating."
    description = wait_for_dataset(lv, project)
    assert (description["Status"], description["StatusMessage"]) == (
        "CREATE_COMPLETE",
        "The dataset was created successfully.",
    )
    assert description["ImageStats"] == {"Total": 4, "Labeled": 4, "Normal": 2, "Anomaly": 2}
    listed = listed_entries(lv, project)
    assert set(listed) == set(refs), "entries keep the customer's source-refs"
    assert listed[refs[3]]["auto-label"] == "1" and "anomaly-label" not in listed[refs[3]]
    assert listed[refs[1]]["anomaly-label"] == "1"

    refused_line = {"source-ref": source.put("images/lost.png", png_bytes(seed=610)), "auto-label": 1}
    lv.update_dataset_entries(ProjectName=project, DatasetType="train", Changes=json.dumps(refused_line).encode())
    description = wait_for_dataset(lv, project)
    message = description["StatusMessage"]
    assert description["Status"] == "UPDATE_FAILED_ROLLBACK_COMPLETE"
    assert "line 1" in message and "no label found" in message and "groundtruth/image-classification" in message
    assert description["ImageStats"]["Total"] == 4, "the line is refused, never imported unlabelled"


def test_segmentation_lines_keep_their_class_names_and_colours(s3_service: LiveServer, source: CustomerBucket) -> None:
    lv, project = s3_service.boto3_client(), f"masks-{uuid.uuid4().hex[:6]}"
    mask = np.zeros((96, 96), dtype=bool)
    mask[30:50, 30:50] = True
    line = {
        **csv_tool_line(source.put("img/cracked.png", png_bytes(seed=620)), "anomaly", attribute="job-7"),
        "job-7-ref": source.put("img/cracked-mask.png", mask_png_bytes(mask)),
        "job-7-ref-metadata": {
            "internal-color-map": {
                "0": {"class-name": "BACKGROUND", "hex-color": "#000000", "confidence": 0.0},
                "1": {"class-name": "crack", "hex-color": "#ffffff", "confidence": 0.0},
            },
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes",
        },
    }
    lv.create_project(ProjectName=project)
    lv.create_dataset(ProjectName=project, DatasetType="train", DatasetSource=source.put_manifest("m", [line]))
    assert stats(lv, project)["Anomaly"] == 1
    (listed,) = listed_entries(lv, project).values()
    assert listed["job-7-ref-metadata"]["internal-color-map"]["1"] == {
        "class-name": "crack",
        "hex-color": "#ffffff",
        "confidence": 0.0,
    }
    assert listed["job-7-ref"] == line["job-7-ref"]


def test_missing_buckets_and_objects_are_named(s3_service: LiveServer, customer: CustomerBucket) -> None:
    lv, project = s3_service.boto3_client(), f"missing-{uuid.uuid4().hex[:6]}"
    lv.create_project(ProjectName=project)
    nowhere = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    cases = [
        ({"Bucket": nowhere, "Key": "m.manifest"}, f"s3://{nowhere}/m.manifest", "NoSuchBucket"),
        ({"Bucket": customer.name, "Key": "absent.manifest"}, f"s3://{customer.name}/absent.manifest", "NoSuchKey"),
    ]
    for s3_object, uri, reason in cases:
        with pytest.raises(ClientError) as excinfo:
            lv.create_dataset(
                ProjectName=project, DatasetType="train", DatasetSource={"GroundTruthManifest": {"S3Object": s3_object}}
            )
        code, message = error(excinfo)
        assert code == "ValidationException" and uri in message and reason in message and "manifest" in message

    lines = [csv_tool_line(f"s3://{nowhere}/a.png", "normal"), csv_tool_line(f"s3://{customer.name}/b.png", "normal")]
    lv.create_dataset(ProjectName=project, DatasetType="train", DatasetSource=customer.put_manifest("m", lines))
    description = wait_for_dataset(lv, project)
    message = description["StatusMessage"]
    assert description["Status"] == "CREATE_FAILED"
    assert f"line 1 (s3://{nowhere}/a.png)" in message and "NoSuchBucket" in message
    assert f"line 2 (s3://{customer.name}/b.png)" in message and "NoSuchKey" in message


def test_an_allow_list_fences_the_buckets_the_service_reads(
    s3_server: S3Server, customer: CustomerBucket, tmp_path: Path
) -> None:
    partner = CustomerBucket(customer.s3, f"partner-{uuid.uuid4().hex[:12]}")
    settings = make_settings(tmp_path, **s3_server.settings_overrides(SERVICE_BUCKET), s3_allowed_buckets=partner.name)
    with run_live_server(settings) as fenced:
        lv = fenced.boto3_client()
        lv.create_project(ProjectName="fenced")
        inside = partner.put_manifest("m", [csv_tool_line(partner.put("a.png", png_bytes(seed=630)), "normal")])
        lv.create_dataset(ProjectName="fenced", DatasetType="train", DatasetSource=inside)
        outside = customer.put_manifest("m", [csv_tool_line(customer.put("a.png", png_bytes(seed=631)), "normal")])
        with pytest.raises(ClientError) as excinfo:
            lv.create_dataset(ProjectName="fenced", DatasetType="test", DatasetSource=outside)
        code, message = error(excinfo)
        assert code == "ValidationException"
        assert customer.name in message and f"LV_S3_ALLOWED_BUCKETS ({partner.name})" in message


def test_import_from_the_customers_bucket(s3_service: LiveServer, customer: CustomerBucket) -> None:
    lv, project = s3_service.boto3_client(), f"imported-{uuid.uuid4().hex[:6]}"
    for index in range(2):
        customer.put(f"exports/widgets/train/good/{index}.png", png_bytes(seed=640 + index))
    lv.create_project(ProjectName=project)
    imported = lv.import_dataset_entries(
        ProjectName=project, DatasetType="train", S3Uri=f"s3://{customer.name}/exports/widgets/", Layout="mvtec"
    )
    assert imported["ImportedImages"]["Total"] == 2
    assert set(listed_entries(lv, project)) == {
        f"s3://{customer.name}/exports/widgets/train/good/{index}.png" for index in range(2)
    }
    with pytest.raises(ClientError) as excinfo:
        lv.import_dataset_entries(
            ProjectName=project, DatasetType="test", S3Uri="s3://no-such-bucket-xyz/exports/", Layout="mvtec"
        )
    code, message = error(excinfo)
    assert code == "ValidationException" and "s3://no-such-bucket-xyz/exports/" in message and "NoSuchBucket" in message


def test_entries_are_keyed_by_source_ref_not_by_image_bytes(s3_service: LiveServer, source: CustomerBucket) -> None:
    lv, project = s3_service.boto3_client(), f"keyed-{uuid.uuid4().hex[:6]}"
    defect = png_bytes(seed=650)
    lines = [csv_tool_line(source.put("a/defect.png", defect), "anomaly", text=False)]
    lines += [
        csv_tool_line(source.put(f"a/good-{index}.png", png_bytes(seed=651 + index)), "normal", text=False)
        for index in (0, 1)
    ]
    lv.create_project(ProjectName=project)
    lv.create_dataset(ProjectName=project, DatasetType="train", DatasetSource=source.put_manifest("m", lines))
    wait_for_dataset(lv, project)
    copy = source.put("b/defect-copy.png", defect)
    lv.update_dataset_entries(
        ProjectName=project, DatasetType="train", Changes=json.dumps({"source-ref": copy}).encode()
    )
    assert stats(lv, project) == {"Total": 4, "Labeled": 3, "Normal": 2, "Anomaly": 1}
    listed = listed_entries(lv, project)
    assert listed[lines[0]["source-ref"]]["anomaly-label"] == 1
    assert listed[copy] == {"source-ref": copy}
    description = lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]
    assert (description["Status"], description["StatusMessage"]) == (
        "UPDATE_COMPLETE",
        "The dataset was updated successfully.",
    )


def _wait_trained(lv: Any, project: str, seen: list[str], version: str = "1") -> dict[str, Any]:
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while time.monotonic() < deadline:
        description = lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]
        if description["Status"] != "TRAINING":
            return description
        seen.append(description["StatusMessage"])
        time.sleep(0.1)
    raise AssertionError(f"model {project}/{version} still TRAINING after {TRAINING_TIMEOUT_S}s")


def test_training_outputs_go_to_the_customers_output_location_and_stay_after_delete_model(
    s3_service: LiveServer, customer: CustomerBucket, tmp_path: Path
) -> None:
    lv, project = s3_service.boto3_client(), f"outputs-{uuid.uuid4().hex[:6]}"
    lv.create_project(ProjectName=project)
    for dataset_type, (normal, anomalous), seed in (("train", (10, 0), 1), ("test", (10, 10), 2)):
        images = synthetic_images(tmp_path / dataset_type, normal=normal, anomalous=anomalous, seed=seed)
        lines = [
            csv_tool_line(customer.put(f"{dataset_type}/{path.parent.name}-{path.name}", path.read_bytes()), label)
            for label, paths in images.items()
            for path in paths
        ]
        source = customer.put_manifest(f"manifests/{dataset_type}.manifest", lines)
        lv.create_dataset(ProjectName=project, DatasetType=dataset_type, DatasetSource=source)
        assert wait_for_dataset(lv, project, dataset_type)["Status"] == "CREATE_COMPLETE"

    with pytest.raises(ClientError) as excinfo:
        lv.create_model(
            ProjectName=project, OutputConfig={"S3Location": {"Bucket": "no-such-output-bkt"}}, **FAST_TRAINING
        )
    code, message = error(excinfo)
    assert code == "ValidationException" and "no-such-output-bkt" in message and "NoSuchBucket" in message
    assert lv.list_models(ProjectName=project)["Models"] == [], "a refused OutputConfig creates no model"

    output = {"S3Location": {"Bucket": customer.name, "Prefix": "model-output/"}}
    created = lv.create_model(ProjectName=project, OutputConfig=output, **FAST_TRAINING)["ModelMetadata"]
    assert created["StatusMessage"].startswith("The model is being trained")
    seen: list[str] = []
    description = _wait_trained(lv, project, seen)
    assert description["Status"] == "TRAINED", description["StatusMessage"]
    assert description["StatusMessage"] == "Training completed successfully."
    assert all(message.startswith("The model is being trained") for message in seen)
    assert any("% done" in message for message in seen), seen

    assert description["OutputConfig"] == output
    manifest_key = f"model-output/EvaluationManifest-{project}-1.json"
    result_key = f"model-output/EvaluationResult-{project}-1.json"
    assert description["EvaluationManifest"] == {"Bucket": customer.name, "Key": manifest_key}
    assert description["EvaluationResult"] == {"Bucket": customer.name, "Key": result_key}
    evaluated = [json.loads(line) for line in customer.get(manifest_key).decode().splitlines()]
    assert sorted(line["anomaly-label"] for line in evaluated) == [0] * 10 + [1] * 10
    assert {line["source-ref"] for line in evaluated} == {
        f"s3://{customer.name}/{key}" for key in customer.keys("test/")
    }
    result = json.loads(customer.get(result_key))
    assert result["EvaluationDetails"]["NumberOfTestingImages"] == 20

    packaging = {
        "Greengrass": {
            "S3OutputLocation": {"Bucket": customer.name, "Prefix": "edge/"},
            "ComponentName": f"com.example.{project}",
            "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"},
            "CompilerOptions": '{"mcpu": "core-avx2"}',
        }
    }
    job_name = lv.start_model_packaging_job(ProjectName=project, ModelVersion="1", Configuration=packaging)["JobName"]
    deadline = time.monotonic() + 60
    while (job := lv.describe_model_packaging_job(ProjectName=project, JobName=job_name)["ModelPackagingDescription"])[
        "Status"
    ] not in ("SUCCEEDED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["Status"] == "SUCCEEDED", job["StatusMessage"]
    assert customer.keys("edge/") == {f"edge/com.example.{project}-1.0.0.zip"}

    lv.delete_model(ProjectName=project, ModelVersion="1")
    assert {manifest_key, result_key} <= customer.keys("model-output/"), "DeleteModel leaves the customer's outputs"

    vanishing = CustomerBucket(customer.s3, f"vanishing-{uuid.uuid4().hex[:10]}")
    again = lv.create_model(
        ProjectName=project, OutputConfig={"S3Location": {"Bucket": vanishing.name}}, **FAST_TRAINING
    )
    customer.s3.delete_bucket(Bucket=vanishing.name)
    version = again["ModelMetadata"]["ModelVersion"]
    failed = _wait_trained(lv, project, [], version=version)
    assert failed["Status"] == "TRAINING_FAILED", "never TRAINED with an output location that holds nothing"
    assert f"s3://{vanishing.name}/EvaluationManifest-{project}-{version}.json" in failed["StatusMessage"]
    assert "NoSuchBucket" in failed["StatusMessage"] and "EvaluationManifest" not in failed


def test_a_manifest_with_many_bad_lines_ends_create_failed_with_a_short_message_and_the_full_list(
    s3_service: LiveServer, customer: CustomerBucket
) -> None:
    lv, project = s3_service.boto3_client(), f"many-bad-{uuid.uuid4().hex[:6]}"
    good = csv_tool_line(customer.put("ok.png", png_bytes(seed=660)), "normal")
    bad = [{"source-ref": f"s3://{customer.name}/bad-{index}.png", "job-label": 1} for index in range(40)]
    lv.create_project(ProjectName=project)
    answer = lv.create_dataset(
        ProjectName=project, DatasetType="train", DatasetSource=customer.put_manifest("m", [good, *bad])
    )
    assert answer["DatasetMetadata"]["Status"] == "CREATE_IN_PROGRESS", "the call is accepted"
    description = wait_for_dataset(lv, project)
    assert description["Status"] == "CREATE_FAILED"
    message = description["StatusMessage"]
    assert message.startswith("40 of 41 manifest lines were refused, so the dataset holds no entry: line 2 (")
    assert "line 4 (" in message and "line 5 (" not in message and "and 37 more" in message
    assert len(message) < 1000, "a StatusMessage to read, not the whole list"
    assert description["ImageStats"]["Total"] == 0
    pages = lv.get_paginator("list_dataset_problems").paginate(
        ProjectName=project, DatasetType="train", PaginationConfig={"PageSize": 15}
    )
    problems = [problem for page in pages for problem in page["Problems"]]
    assert [problem["Entry"] for problem in problems] == [
        f"line {index + 2} (s3://{customer.name}/bad-{index}.png)" for index in range(40)
    ]
    assert all("no label found" in problem["Reason"] for problem in problems)
    with pytest.raises(ClientError) as excinfo:
        lv.create_model(ProjectName=project, OutputConfig={"S3Location": {"Bucket": customer.name}}, **FAST_TRAINING)
    assert error(excinfo)[0] == "ValidationException", "a CREATE_FAILED dataset cannot be trained on"
    lv.delete_dataset(ProjectName=project, DatasetType="train")

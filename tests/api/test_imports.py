"""ImportDatasetEntries (openlv extension) through boto3 against a live server."""

import json
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.data import mask_png_bytes, png_bytes
from tests.helpers.live_server import LiveServer

SIZE = (64, 64)


def defect_mask() -> bytes:
    mask = np.zeros((SIZE[1], SIZE[0]), dtype=bool)
    mask[5:20, 5:20] = True
    return mask_png_bytes(mask)


def write_tree(server: LiveServer, prefix: str, objects: dict[str, bytes]) -> str:
    """Put objects under `prefix` in the server's storage; the s3:// URI of the folder."""
    for name, data in objects.items():
        server.context.store.put(f"{prefix}/{name}", data)
    return f"s3://{server.settings.storage_bucket}/{prefix}/"


def mvtec_tree(seed: int) -> dict[str, bytes]:
    return {
        "train/good/000.png": png_bytes(SIZE, seed=seed),
        "train/good/001.png": png_bytes(SIZE, seed=seed + 1),
        "test/good/000.png": png_bytes(SIZE, seed=seed + 2),
        "test/crack/000.png": png_bytes(SIZE, seed=seed + 3),
        "test/crack/001.png": png_bytes(SIZE, seed=seed + 4),
        "ground_truth/crack/000_mask.png": defect_mask(),
        "readme.txt": b"MVTec-style test tree",
    }


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def project(lv: Any, project_name: str) -> str:
    lv.create_project(ProjectName=project_name)
    return project_name


def entry_lines(lv: Any, project: str, dataset_type: str) -> list[dict[str, Any]]:
    pages = lv.get_paginator("list_dataset_entries").paginate(ProjectName=project, DatasetType=dataset_type)
    return [json.loads(line) for page in pages for line in page["DatasetEntries"]]


def test_mvtec_train_and_test_by_default_split(server: LiveServer, lv: Any, project: str) -> None:
    uri = write_tree(server, f"imports/{project}", mvtec_tree(seed=100))
    train = lv.import_dataset_entries(ProjectName=project, DatasetType="train", S3Uri=uri, Layout="mvtec")
    assert train["DatasetCreated"] is True
    assert train["ImportedImages"] == {"Total": 2, "Normal": 2, "Anomaly": 0, "Masks": 0, "Duplicates": 0}
    assert train["ImageStats"] == {"Total": 2, "Labeled": 2, "Normal": 2, "Anomaly": 0}
    assert train["IgnoredObjects"] == 1

    test = lv.import_dataset_entries(ProjectName=project, DatasetType="test", S3Uri=uri, Layout="mvtec")
    assert test["ImportedImages"] == {"Total": 3, "Normal": 1, "Anomaly": 2, "Masks": 1, "Duplicates": 0}
    described = lv.describe_dataset(ProjectName=project, DatasetType="test")["DatasetDescription"]
    assert described["ImageStats"] == {"Total": 3, "Labeled": 3, "Normal": 1, "Anomaly": 2}

    lines = {line["source-ref"]: line for line in entry_lines(lv, project, "test")}
    assert set(lines) == {f"{uri}test/good/000.png", f"{uri}test/crack/000.png", f"{uri}test/crack/001.png"}
    with_mask = lines[f"{uri}test/crack/000.png"]
    assert with_mask["anomaly-label"] == 1
    assert with_mask["anomaly-mask-ref-metadata"]["internal-color-map"]["1"]["class-name"] == "crack"
    assert "anomaly-mask-ref" not in lines[f"{uri}test/crack/001.png"]
    assert lines[f"{uri}test/good/000.png"]["anomaly-label"] == 0


def test_explicit_splits_and_reimport_changes_nothing(server: LiveServer, lv: Any, project: str) -> None:
    uri = write_tree(server, f"imports/{project}", mvtec_tree(seed=200))
    first = lv.import_dataset_entries(
        ProjectName=project, DatasetType="train", S3Uri=uri, Layout="mvtec", Splits=["train", "test"]
    )
    assert first["ImportedImages"]["Total"] == 5
    again = lv.import_dataset_entries(
        ProjectName=project, DatasetType="train", S3Uri=uri.rstrip("/"), Layout="mvtec", Splits=["train", "test"]
    )
    assert again["DatasetCreated"] is False
    assert again["ImportedImages"]["Duplicates"] == 5
    assert again["ImageStats"] == first["ImageStats"] == {"Total": 5, "Labeled": 5, "Normal": 3, "Anomaly": 2}


def test_folders_layout(server: LiveServer, lv: Any, project: str) -> None:
    uri = write_tree(
        server,
        f"imports/{project}",
        {
            "normal/a.png": png_bytes(SIZE, seed=300),
            "anomaly/b.png": png_bytes(SIZE, seed=301),
            "anomaly/dent/c.png": png_bytes(SIZE, seed=302),
            "masks/dent/c_mask.png": defect_mask(),
        },
    )
    reply = lv.import_dataset_entries(ProjectName=project, DatasetType="test", S3Uri=uri, Layout="folders")
    assert reply["ImportedImages"] == {"Total": 3, "Normal": 1, "Anomaly": 2, "Masks": 1, "Duplicates": 0}
    lines = {line["source-ref"].removeprefix(uri): line for line in entry_lines(lv, project, "test")}
    assert lines["anomaly/dent/c.png"]["anomaly-mask-ref-metadata"]["internal-color-map"]["1"]["class-name"] == "dent"
    assert "anomaly-mask-ref" not in lines["anomaly/b.png"]


def test_one_bad_image_refuses_the_whole_import(server: LiveServer, lv: Any, project: str) -> None:
    tree = mvtec_tree(seed=400)
    tree["test/crack/002.png"] = b"this is not an image"
    tree["ground_truth/crack/001_mask.png"] = png_bytes((70, 70), mode="L")
    uri = write_tree(server, f"imports/{project}", tree)
    with pytest.raises(ClientError) as excinfo:
        lv.import_dataset_entries(ProjectName=project, DatasetType="test", S3Uri=uri, Layout="mvtec")
    assert error_code(excinfo) == "ValidationException"
    message = excinfo.value.response["Error"]["Message"]
    assert f"{uri}test/crack/002.png: the image is not a PNG or JPEG" in message
    assert f"{uri}ground_truth/crack/001_mask.png: the mask is 70x70 pixels" in message
    with pytest.raises(ClientError) as missing:
        lv.describe_dataset(ProjectName=project, DatasetType="test")
    assert error_code(missing) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("params", "message_part"),
    [
        ({"S3Uri": "s3://some-other-bucket/x/", "Layout": "mvtec"}, "local storage, which holds only bucket"),
        ({"S3Uri": "s3://{bucket}/", "Layout": "mvtec"}, "must name a folder"),
        ({"S3Uri": "s3://{bucket}/imports/{project}/../../", "Layout": "mvtec"}, "not allowed"),
        ({"S3Uri": "s3://{bucket}/imports/{project}/", "Layout": "mvtec", "Splits": ["validation"]}, "validation"),
        ({"S3Uri": "s3://{bucket}/imports/{project}/", "Layout": "folders", "Splits": ["train"]}, "mvtec layout only"),
        ({"S3Uri": "s3://{bucket}/imports/{project}/", "Layout": "folders"}, "No images found"),
        ({"S3Uri": "s3://{bucket}/nothing-here/", "Layout": "mvtec", "Splits": ["train"]}, "no folder for split"),
    ],
    ids=["other-bucket", "bucket-root", "traversal", "missing-split", "splits-on-folders", "no-images", "empty"],
)
def test_invalid_imports_are_refused(
    server: LiveServer, lv: Any, project: str, params: dict[str, Any], message_part: str
) -> None:
    write_tree(server, f"imports/{project}", mvtec_tree(seed=500))
    bucket = server.settings.storage_bucket
    params = {**params, "S3Uri": params["S3Uri"].format(bucket=bucket, project=project)}
    with pytest.raises(ClientError) as excinfo:
        lv.import_dataset_entries(ProjectName=project, DatasetType="train", **params)
    assert error_code(excinfo) == "ValidationException"
    assert message_part in excinfo.value.response["Error"]["Message"]


def test_unknown_layout_is_refused(server: LiveServer, lv: Any, project: str) -> None:
    uri = write_tree(server, f"imports/{project}", mvtec_tree(seed=600))
    with pytest.raises(ClientError) as excinfo:
        lv.import_dataset_entries(ProjectName=project, DatasetType="train", S3Uri=uri, Layout="coco")
    assert error_code(excinfo) == "ValidationException"
    assert "Layout 'coco' is not supported" in excinfo.value.response["Error"]["Message"]


def test_missing_project_is_not_found_before_anything_is_read(server: LiveServer, lv: Any, project_name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lv.import_dataset_entries(
            ProjectName=project_name,
            DatasetType="train",
            S3Uri=f"s3://{server.settings.storage_bucket}/no-such-folder/",
            Layout="folders",
        )
    assert error_code(excinfo) == "ResourceNotFoundException"

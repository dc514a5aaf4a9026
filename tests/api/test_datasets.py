"""Datasets through boto3 against a live server: create from a manifest, describe, list with filters, delete."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.data import jpeg_bytes, mask_png_bytes, png_bytes
from tests.helpers.manifests import StorageWriter, manifest_line, wait_for_dataset


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def all_entries(lv, project: str, dataset_type: str = "train", **filters) -> list[dict]:
    pages = lv.get_paginator("list_dataset_entries").paginate(
        ProjectName=project, DatasetType=dataset_type, PaginationConfig={"PageSize": 2}, **filters
    )
    return [json.loads(entry) for page in pages for entry in page["DatasetEntries"]]


@pytest.fixture
def storage(server, project_name) -> StorageWriter:
    return StorageWriter(server.context.store, f"uploads/{project_name}")


def stats(lv, project: str, dataset_type: str = "train") -> dict:
    return lv.describe_dataset(ProjectName=project, DatasetType=dataset_type)["DatasetDescription"]["ImageStats"]


def test_create_from_manifest_then_describe_and_filter(lv, storage, project_name):
    lv.create_project(ProjectName=project_name)
    mask = np.zeros((96, 96), dtype=bool)
    mask[10:30, 10:30] = True
    lines = [manifest_line(storage.put(f"good-{i}.png", png_bytes(seed=i)), "normal") for i in range(3)]
    lines.append(manifest_line(storage.put("bad-0.jpg", jpeg_bytes(seed=10)), "anomaly"))
    lines.append(
        manifest_line(
            storage.put("bad-1.png", png_bytes(seed=11)),
            "anomaly",
            mask_ref=storage.put("bad-1-mask.png", mask_png_bytes(mask)),
        )
    )
    lines.append(manifest_line(storage.put("unlabeled.png", png_bytes(seed=12))))
    source = storage.put_manifest("train.manifest", lines)

    metadata = lv.create_dataset(ProjectName=project_name, DatasetType="train", DatasetSource=source)["DatasetMetadata"]
    assert metadata["DatasetType"] == "train" and metadata["Status"] == "CREATE_IN_PROGRESS"
    assert metadata["StatusMessage"] == "The dataset is creating."
    empty = lv.create_dataset(ProjectName=project_name, DatasetType="test")["DatasetMetadata"]
    assert empty["Status"] == "CREATE_COMPLETE", "an empty dataset is created at once"
    assert wait_for_dataset(lv, project_name)["Status"] == "CREATE_COMPLETE"

    assert stats(lv, project_name) == {"Total": 6, "Labeled": 5, "Normal": 3, "Anomaly": 2}
    assert stats(lv, project_name, "test") == {"Total": 0, "Labeled": 0, "Normal": 0, "Anomaly": 0}
    described = lv.describe_project(ProjectName=project_name)["ProjectDescription"]["Datasets"]
    assert sorted(d["DatasetType"] for d in described) == ["test", "train"]

    entries = all_entries(lv, project_name)
    assert sorted(entry["source-ref"] for entry in entries) == sorted(line["source-ref"] for line in lines)
    masked = next(entry for entry in entries if entry["source-ref"].endswith("bad-1.png"))
    assert masked["anomaly-mask-ref"] == lines[4]["anomaly-mask-ref"]

    assert len(all_entries(lv, project_name, Labeled=True)) == 5
    assert [e["source-ref"] for e in all_entries(lv, project_name, Labeled=False)] == [lines[5]["source-ref"]]
    assert {e["anomaly-label"] for e in all_entries(lv, project_name, AnomalyClass="anomaly")} == {1}
    assert len(all_entries(lv, project_name, AnomalyClass="normal")) == 3
    assert [e["source-ref"] for e in all_entries(lv, project_name, SourceRefContains="bad-0")] == [
        lines[3]["source-ref"]
    ]
    assert all_entries(lv, project_name, SourceRefContains="BAD-0") == []
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert all_entries(lv, project_name, BeforeCreationDate=hour_ago) == []
    assert len(all_entries(lv, project_name, AfterCreationDate=hour_ago)) == 6


def test_entry_pages_are_bounded_and_tokens_opaque(lv, storage, project_name):
    lv.create_project(ProjectName=project_name)
    lines = [manifest_line(storage.put(f"{i}.png", png_bytes(seed=100 + i)), "normal") for i in range(3)]
    lv.create_dataset(ProjectName=project_name, DatasetType="train", DatasetSource=storage.put_manifest("m", lines))
    wait_for_dataset(lv, project_name)
    first = lv.list_dataset_entries(ProjectName=project_name, DatasetType="train", MaxResults=2)
    assert len(first["DatasetEntries"]) == 2 and "NextToken" in first
    second = lv.list_dataset_entries(
        ProjectName=project_name, DatasetType="train", MaxResults=2, NextToken=first["NextToken"]
    )
    assert len(second["DatasetEntries"]) == 1 and "NextToken" not in second
    for bad in ({"MaxResults": 101}, {"NextToken": "garbage"}):
        with pytest.raises(ClientError) as excinfo:
            lv.list_dataset_entries(ProjectName=project_name, DatasetType="train", **bad)
        assert error_code(excinfo) == "ValidationException"


def test_delete_keeps_images_other_entries_use(lv, server, storage, project_name):
    store = server.context.store
    lv.create_project(ProjectName=project_name)
    shared, own = storage.put("shared.png", png_bytes(seed=200)), storage.put("own.png", png_bytes(seed=201))
    lv.create_dataset(
        ProjectName=project_name,
        DatasetType="train",
        DatasetSource=storage.put_manifest("train", [manifest_line(shared, "normal")]),
    )
    lv.create_dataset(
        ProjectName=project_name,
        DatasetType="test",
        DatasetSource=storage.put_manifest("test", [manifest_line(shared, "normal"), manifest_line(own, "anomaly")]),
    )
    wait_for_dataset(lv, project_name, "train")
    wait_for_dataset(lv, project_name, "test")
    images_before = set(store.list("images/"))

    with pytest.raises(ClientError) as excinfo:
        lv.delete_project(ProjectName=project_name)
    assert error_code(excinfo) == "ConflictException"

    lv.delete_dataset(ProjectName=project_name, DatasetType="test")
    removed = images_before - set(store.list("images/"))
    assert len(removed) == 1  # the image only the test dataset used; the shared one stays for train
    assert stats(lv, project_name) == {"Total": 1, "Labeled": 1, "Normal": 1, "Anomaly": 0}
    with pytest.raises(ClientError) as excinfo:
        lv.describe_dataset(ProjectName=project_name, DatasetType="test")
    assert error_code(excinfo) == "ResourceNotFoundException"

    lv.delete_dataset(ProjectName=project_name, DatasetType="train")
    lv.delete_project(ProjectName=project_name)


def test_create_conflicts_and_unknown_names(lv, project_name):
    with pytest.raises(ClientError) as excinfo:
        lv.create_dataset(ProjectName=project_name, DatasetType="train")
    assert error_code(excinfo) == "ResourceNotFoundException"
    lv.create_project(ProjectName=project_name)
    lv.create_dataset(ProjectName=project_name, DatasetType="train")
    with pytest.raises(ClientError) as excinfo:
        lv.create_dataset(ProjectName=project_name, DatasetType="train")
    assert error_code(excinfo) == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        lv.create_dataset(ProjectName=project_name, DatasetType="validation")
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lv.describe_dataset(ProjectName=project_name, DatasetType="test")
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_client_token_replays_and_refuses_other_params(lv, storage, project_name):
    lv.create_project(ProjectName=project_name)
    token = f"create-dataset-{project_name}"
    first = lv.create_dataset(ProjectName=project_name, DatasetType="train", ClientToken=token)
    again = lv.create_dataset(ProjectName=project_name, DatasetType="train", ClientToken=token)
    assert again["DatasetMetadata"] == first["DatasetMetadata"]
    with pytest.raises(ClientError) as excinfo:
        lv.create_dataset(ProjectName=project_name, DatasetType="test", ClientToken=token)
    assert error_code(excinfo) == "ConflictException"
    datasets = lv.describe_project(ProjectName=project_name)["ProjectDescription"]["Datasets"]
    assert [d["DatasetType"] for d in datasets] == ["train"]

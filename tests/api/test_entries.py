"""UpdateDatasetEntries through boto3: add, relabel, entries keyed by source-ref, roll back bad batches (accepted,
then UPDATE_FAILED_ROLLBACK_COMPLETE with every refused line in ListDatasetProblems), idempotency, claims."""

import hashlib
import json

import numpy as np
import pytest
from botocore.exceptions import ClientError

from service.domain import dataset_state
from tests.helpers.data import mask_png_bytes, png_bytes
from tests.helpers.manifests import StorageWriter, changes, manifest_line, wait_for_dataset


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def entries(lv, project: str) -> dict[str, dict]:
    pages = lv.get_paginator("list_dataset_entries").paginate(ProjectName=project, DatasetType="train")
    return {line["source-ref"]: line for page in pages for line in map(json.loads, page["DatasetEntries"])}


def describe(lv, project: str) -> dict:
    return lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]


@pytest.fixture
def train(lv, server, project_name) -> StorageWriter:
    """A project whose train dataset holds two normal images, good-0.png and good-1.png."""
    storage = StorageWriter(server.context.store, f"uploads/{project_name}")
    lines = [manifest_line(storage.put(f"good-{i}.png", png_bytes(seed=300 + i)), "normal") for i in range(2)]
    lv.create_project(ProjectName=project_name)
    lv.create_dataset(ProjectName=project_name, DatasetType="train", DatasetSource=storage.put_manifest("m", lines))
    assert wait_for_dataset(lv, project_name)["Status"] == "CREATE_COMPLETE"
    return storage


def test_update_adds_and_relabels(lv, train, project_name):
    relabelled, added = train.put("good-0.png", png_bytes(seed=300)), train.put("new.png", png_bytes(seed=310))
    mask = np.zeros((96, 96), dtype=bool)
    mask[40:60, 40:60] = True
    batch = [
        manifest_line(relabelled, "anomaly", mask_ref=train.put("good-0-mask.png", mask_png_bytes(mask))),
        manifest_line(added, "normal"),
    ]
    response = lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=changes(batch))
    assert response["Status"] == "UPDATE_IN_PROGRESS"

    description = wait_for_dataset(lv, project_name)
    assert description["Status"] == "UPDATE_COMPLETE"
    assert description["ImageStats"] == {"Total": 3, "Labeled": 3, "Normal": 2, "Anomaly": 1}
    listed = entries(lv, project_name)
    assert listed[relabelled]["anomaly-label"] == 1
    assert listed[relabelled]["anomaly-mask-ref"] == batch[0]["anomaly-mask-ref"]
    assert listed[added]["anomaly-label"] == 0


def test_same_image_under_a_new_source_ref_is_a_new_entry_sharing_the_stored_image(lv, server, train, project_name):
    copy = train.put("copy-of-good-1.png", png_bytes(seed=301))
    lv.update_dataset_entries(
        ProjectName=project_name, DatasetType="train", Changes=changes([manifest_line(copy, "anomaly")])
    )
    wait_for_dataset(lv, project_name)
    listed = entries(lv, project_name)
    assert describe(lv, project_name)["ImageStats"] == {"Total": 3, "Labeled": 3, "Normal": 2, "Anomaly": 1}
    assert listed[copy]["anomaly-label"] == 1
    original = next(ref for ref in listed if ref.endswith("/good-1.png"))
    assert listed[original]["anomaly-label"] == 0
    sha = hashlib.sha256(png_bytes(seed=301)).hexdigest()
    assert len([key for key in server.context.store.list("images/") if sha in key]) == 1


def test_bad_batch_changes_nothing_and_says_why(lv, train, project_name):
    before = entries(lv, project_name)
    batch = changes([manifest_line(train.put("fine.png", png_bytes(seed=320)), "normal")])
    batch += b"{not json\n"
    batch += changes([manifest_line(f"s3://{train.store.bucket}/uploads/{project_name}/missing.png", "normal")])
    batch += changes([{**manifest_line(train.put("x.png", png_bytes(seed=321)), "normal"), "anomaly-label": 1}])

    answer = lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=batch)
    assert answer["Status"] == "UPDATE_IN_PROGRESS", "the call is accepted; the lines are checked afterwards"

    description = wait_for_dataset(lv, project_name)
    assert description["Status"] == "UPDATE_FAILED_ROLLBACK_COMPLETE"
    message = description["StatusMessage"]
    assert message.startswith("3 of 4 manifest lines were refused, so no entry changed: line 2: invalid JSON")
    assert "line 3" in message and "line 4" in message and "ListDatasetProblems" in message
    problems = lv.list_dataset_problems(ProjectName=project_name, DatasetType="train")
    assert problems["Status"] == "UPDATE_FAILED_ROLLBACK_COMPLETE"
    reasons = {problem["Entry"].split(" ")[1]: problem["Reason"] for problem in problems["Problems"]}
    assert set(reasons) == {"2", "3", "4"}
    assert "invalid JSON" in reasons["2"] and "does not exist" in reasons["3"] and "class-name" in reasons["4"]
    assert entries(lv, project_name) == before
    assert description["ImageStats"]["Total"] == 2

    lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=batch.split(b"\n")[0] + b"\n")
    description = wait_for_dataset(lv, project_name)
    assert description["Status"] == "UPDATE_COMPLETE"
    assert description["StatusMessage"] == "The dataset was updated successfully."
    assert lv.list_dataset_problems(ProjectName=project_name, DatasetType="train")["Problems"] == []


def test_client_token_replays_without_applying_twice(lv, train, project_name):
    token = f"update-{project_name}"
    batch = changes([manifest_line(train.put("t.png", png_bytes(seed=330)), "normal")])
    for _ in range(2):
        answer = lv.update_dataset_entries(
            ProjectName=project_name, DatasetType="train", Changes=batch, ClientToken=token
        )
        assert answer["Status"] == "UPDATE_IN_PROGRESS"
        wait_for_dataset(lv, project_name)
    assert describe(lv, project_name)["ImageStats"]["Total"] == 3
    other = changes([manifest_line(train.put("u.png", png_bytes(seed=331)), "normal")])
    with pytest.raises(ClientError) as excinfo:
        lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=other, ClientToken=token)
    assert error_code(excinfo) == "ConflictException"
    assert describe(lv, project_name)["ImageStats"]["Total"] == 3


def test_a_dataset_being_updated_refuses_delete_and_other_updates(lv, server, train, project_name):
    engine = server.context.engine
    dataset_id = dataset_state.claim_for_update(engine, project_name=project_name, dataset_type="train")
    assert describe(lv, project_name)["Status"] == "UPDATE_IN_PROGRESS"
    with pytest.raises(ClientError) as excinfo:
        lv.delete_dataset(ProjectName=project_name, DatasetType="train")
    assert error_code(excinfo) == "ConflictException"
    batch = changes([manifest_line(train.put("v.png", png_bytes(seed=340)), "normal")])
    with pytest.raises(ClientError) as excinfo:
        lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=batch)
    assert error_code(excinfo) == "ConflictException"
    assert describe(lv, project_name)["ImageStats"]["Total"] == 2

    dataset_state.record_failed_update(engine, dataset_id=dataset_id, message="released by the test")
    lv.delete_dataset(ProjectName=project_name, DatasetType="train")


def test_changes_must_be_json_lines(lv, train, project_name):
    with pytest.raises(ClientError) as excinfo:
        lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=b"\n\n")
    assert error_code(excinfo) == "ValidationException"
    assert describe(lv, project_name)["ImageStats"]["Total"] == 2


def test_a_shared_image_is_deleted_only_when_its_last_entry_goes(lv, server, train, project_name):
    """Entries keyed by source-ref share one stored image (issue 16); its file goes only with the last entry using it
    (issue 11's reference counting), across the entries of one dataset and across datasets."""
    shared_bytes = png_bytes(seed=340)
    refs = [train.put(name, shared_bytes) for name in ("twin-a.png", "twin-b.png", "twin-c.png")]
    lv.update_dataset_entries(
        ProjectName=project_name,
        DatasetType="train",
        Changes=changes([manifest_line(ref, "normal") for ref in refs[:2]]),
    )
    assert wait_for_dataset(lv, project_name)["Status"] == "UPDATE_COMPLETE"
    test_source = train.put_manifest("test-manifest", [manifest_line(refs[2], "normal")])
    lv.create_dataset(ProjectName=project_name, DatasetType="test", DatasetSource=test_source)
    assert wait_for_dataset(lv, project_name, "test")["Status"] == "CREATE_COMPLETE"
    sha = hashlib.sha256(shared_bytes).hexdigest()
    stored = [key for key in server.context.store.list("images/") if sha in key]
    assert len(stored) == 1

    lv.delete_dataset(ProjectName=project_name, DatasetType="train")
    assert server.context.store.exists(stored[0]), "the test dataset's entry still uses the image"
    lv.delete_dataset(ProjectName=project_name, DatasetType="test")
    assert not server.context.store.exists(stored[0])

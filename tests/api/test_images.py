"""Bad images and bad references through boto3: the call is accepted and the dataset ends CREATE_FAILED or
UPDATE_FAILED_ROLLBACK_COMPLETE with a StatusMessage naming the line and the reason (ListDatasetProblems lists each),
and neither CreateDataset nor UpdateDatasetEntries leaves anything behind."""

import json
import struct
from collections.abc import Callable

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.data import jpeg_bytes, mask_png_bytes, png_bytes
from tests.helpers.manifests import StorageWriter, changes, manifest_line, wait_for_dataset


def corrupt_png() -> bytes:
    """A PNG whose compressed pixel data is scrambled (headers intact)."""
    data = png_bytes(seed=400)
    at = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[at - 4 : at])
    start, end = at + 14, at + 4 + length
    return data[:start] + bytes(byte ^ 0x5A for byte in data[start:end]) + data[end:]


def mask_of(size: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[: size[0] // 2, : size[1] // 2] = True
    return mask


Case = Callable[[StorageWriter], dict]

CASES: dict[str, tuple[Case, str]] = {
    "corrupt-png": (lambda s: manifest_line(s.put("corrupt.png", corrupt_png()), "normal"), "corrupt or truncated"),
    "truncated-png": (
        lambda s: manifest_line(s.put("truncated.png", png_bytes(seed=401)[:300]), "normal"),
        "corrupt or truncated",
    ),
    "text-named-png": (
        lambda s: manifest_line(s.put("notes.png", b"these are notes, not pixels\n" * 20), "normal"),
        "not a PNG or JPEG",
    ),
    "oversize": (
        lambda s: manifest_line(s.put("huge.png", png_bytes(seed=402) + bytes(8 * 1024 * 1024)), "normal"),
        "the limit is 8388608 bytes",
    ),
    "ten-pixels": (
        lambda s: manifest_line(s.put("tiny.png", png_bytes(size=(10, 10), seed=403)), "normal"),
        "10x10 pixels",
    ),
    "traversal": (
        lambda s: manifest_line(f"s3://{s.store.bucket}/uploads/../../etc/passwd.png", "normal"),
        "'..'",
    ),
    "other-bucket": (
        lambda s: manifest_line("s3://someone-elses-bucket/a.png", "normal"),
        "local storage, which holds",
    ),
    "missing-object": (
        lambda s: manifest_line(f"s3://{s.store.bucket}/{s.prefix}/never-written.png", "normal"),
        "does not exist",
    ),
    "mask-size-mismatch": (
        lambda s: manifest_line(
            s.put("m.png", png_bytes(seed=404)),
            "anomaly",
            mask_ref=s.put("m-mask.png", mask_png_bytes(mask_of((80, 64)))),
        ),
        "the mask is 64x80 pixels but the image is 96x96",
    ),
    "jpeg-mask": (
        lambda s: manifest_line(
            s.put("j.png", png_bytes(seed=405)), "anomaly", mask_ref=s.put("j-mask.jpg", jpeg_bytes(seed=406))
        ),
        "mask must be a PNG",
    ),
    "mask-on-normal": (
        lambda s: manifest_line(
            s.put("n.png", png_bytes(seed=407)),
            "normal",
            mask_ref=s.put("n-mask.png", mask_png_bytes(mask_of((96, 96)))),
        ),
        "a mask needs the label 'anomaly'",
    ),
    "label-out-of-range": (
        lambda s: {**manifest_line(s.put("r.png", png_bytes(seed=408)), "normal"), "anomaly-label": 2},
        "must be 0 (normal) or 1 (anomaly)",
    ),
}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def listed(lv, project: str) -> list[str]:
    pages = lv.get_paginator("list_dataset_entries").paginate(ProjectName=project, DatasetType="train")
    return sorted(entry for page in pages for entry in page["DatasetEntries"])


@pytest.mark.parametrize("case", list(CASES))
def test_bad_line_is_refused_and_nothing_changes(lv, server, project_name, case):
    make_line, reason = CASES[case]
    storage = StorageWriter(server.context.store, f"uploads/{project_name}")
    good = manifest_line(storage.put("good.png", png_bytes(seed=409)), "normal")
    bad = make_line(storage)
    lv.create_project(ProjectName=project_name)
    images_before = set(server.context.store.list("images/"))

    lv.create_dataset(
        ProjectName=project_name, DatasetType="train", DatasetSource=storage.put_manifest("bad", [good, bad])
    )
    description = wait_for_dataset(lv, project_name)
    message = description["StatusMessage"]
    assert description["Status"] == "CREATE_FAILED"
    assert f"line 2 ({bad['source-ref']})" in message and reason in message and "line 1" not in message
    problems = lv.list_dataset_problems(ProjectName=project_name, DatasetType="train")["Problems"]
    assert [problem["Entry"] for problem in problems] == [f"line 2 ({bad['source-ref']})"]
    assert reason in problems[0]["Reason"]
    assert listed(lv, project_name) == []
    assert set(server.context.store.list("images/")) == images_before

    lv.delete_dataset(ProjectName=project_name, DatasetType="train")
    lv.create_dataset(ProjectName=project_name, DatasetType="train", DatasetSource=storage.put_manifest("ok", [good]))
    assert wait_for_dataset(lv, project_name)["Status"] == "CREATE_COMPLETE"
    entries_before = listed(lv, project_name)
    answer = lv.update_dataset_entries(ProjectName=project_name, DatasetType="train", Changes=changes([bad]))
    assert answer["Status"] == "UPDATE_IN_PROGRESS"
    description = wait_for_dataset(lv, project_name)
    assert description["Status"] == "UPDATE_FAILED_ROLLBACK_COMPLETE" and reason in description["StatusMessage"]
    assert listed(lv, project_name) == entries_before
    assert [json.loads(e)["source-ref"] for e in entries_before] == [good["source-ref"]]


def test_manifest_outside_the_local_bucket_is_refused_and_says_why(lv, server, project_name):
    lv.create_project(ProjectName=project_name)
    for s3_object, reason in [
        ({"Bucket": "someone-elses-bucket", "Key": "m.manifest"}, "local storage, which holds only bucket"),
        ({"Bucket": server.context.store.bucket, "Key": "a/../../m.manifest"}, "'..'"),
        ({"Bucket": server.context.store.bucket, "Key": f"{project_name}/absent.manifest"}, "does not exist"),
    ]:
        with pytest.raises(ClientError) as excinfo:
            lv.create_dataset(
                ProjectName=project_name,
                DatasetType="train",
                DatasetSource={"GroundTruthManifest": {"S3Object": s3_object}},
            )
        code, message = error_of(excinfo)
        assert code in ("ValidationException", "ResourceNotFoundException") and reason in message
    assert lv.describe_project(ProjectName=project_name)["ProjectDescription"]["Datasets"] == []

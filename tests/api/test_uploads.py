"""UploadDatasetImages (multipart, openlv extension) against a live server."""

import hashlib
import json
from typing import Any

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.data import jpeg_bytes, mask_png_bytes, png_bytes
from tests.helpers.ext_api import image_parts, upload, upload_request
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

SIZE = (64, 64)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def square_mask(size: tuple[int, int] = SIZE) -> bytes:
    mask = np.zeros((size[1], size[0]), dtype=bool)
    mask[10:30, 20:40] = True
    return mask_png_bytes(mask)


def image_keys(server: LiveServer) -> list[str]:
    return sorted(server.context.store.list("images/"))


def assert_validation_error(response: Any, *message_parts: str) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    message = response.json()["Message"]
    for part in message_parts:
        assert part in message
    return message


@pytest.fixture
def project(lv: Any, project_name: str) -> str:
    lv.create_project(ProjectName=project_name)
    return project_name


@pytest.mark.parametrize("unsigned_payload", [False, True], ids=["signed-payload", "unsigned-payload"])
def test_upload_creates_the_dataset_and_labels_each_image(
    server: LiveServer, lv: Any, project: str, unsigned_payload: bool
) -> None:
    normal, anomalous, unlabeled = png_bytes(SIZE, seed=1), png_bytes(SIZE, seed=2), jpeg_bytes(SIZE, seed=3)
    parts = [
        *image_parts("n1", normal, "normal", filename="good part.png"),
        *image_parts("a1", anomalous, "anomaly", anomaly_class="scratch", mask=square_mask()),
        *image_parts("u1", unlabeled, "unlabeled", filename="later.jpg"),
    ]
    response = upload(server, project, "train", parts, unsigned_payload=unsigned_payload)
    assert response.status_code == 200, response.text
    reply = response.json()
    bucket = server.settings.storage_bucket
    assert reply["DatasetType"] == "train" and reply["DatasetCreated"] is True
    assert reply["ImageStats"] == {"Total": 3, "Labeled": 2, "Normal": 1, "Anomaly": 1}
    assert [(i["Id"], i["FileName"], i["Label"], i["Duplicate"]) for i in reply["Images"]] == [
        ("n1", "good part.png", "normal", False),
        ("a1", "a1.png", "anomaly", False),
        ("u1", "later.jpg", "unlabeled", False),
    ]
    for image, data in zip(reply["Images"], [normal, anomalous, unlabeled], strict=True):
        assert image["Sha256"] == sha256(data)
        assert image["SourceRef"].startswith(f"s3://{bucket}/images/") and sha256(data) in image["SourceRef"]
        assert server.context.store.get(image["SourceRef"].removeprefix(f"s3://{bucket}/")) == data

    described = lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]
    assert described["ImageStats"] == reply["ImageStats"]
    lines = [
        json.loads(line) for line in lv.list_dataset_entries(ProjectName=project, DatasetType="train")["DatasetEntries"]
    ]
    by_ref = {line["source-ref"]: line for line in lines}
    anomaly_line = by_ref[reply["Images"][1]["SourceRef"]]
    assert anomaly_line["anomaly-label"] == 1
    assert anomaly_line["anomaly-mask-ref-metadata"]["internal-color-map"]["1"]["class-name"] == "scratch"
    assert by_ref[reply["Images"][0]["SourceRef"]]["anomaly-label"] == 0
    assert "anomaly-label" not in by_ref[reply["Images"][2]["SourceRef"]]


def test_duplicates_are_flagged_and_stored_once(server: LiveServer, lv: Any, project: str) -> None:
    first, second = png_bytes(SIZE, seed=11), png_bytes(SIZE, seed=12)
    assert upload(server, project, "test", image_parts("a", first, "normal")).status_code == 200
    keys_after_first = image_keys(server)
    reply = upload(
        server,
        project,
        "test",
        [
            *image_parts("again", first, "anomaly"),
            *image_parts("new", second, "normal"),
            *image_parts("twice", second, "normal"),
        ],
        unsigned_payload=True,
    ).json()
    assert reply["DatasetCreated"] is False
    assert [(i["Id"], i["Duplicate"]) for i in reply["Images"]] == [("again", True), ("new", False), ("twice", True)]
    assert reply["ImageStats"] == {"Total": 2, "Labeled": 2, "Normal": 1, "Anomaly": 1}  # "again" relabelled
    assert sorted(set(image_keys(server)) - set(keys_after_first)) == [
        key for key in image_keys(server) if sha256(second) in key
    ]
    assert sum(sha256(first) in key for key in image_keys(server)) == 1


def test_a_batch_with_bad_parts_changes_nothing_and_names_each(server: LiveServer, lv: Any, project: str) -> None:
    assert upload(server, project, "train", image_parts("ok0", png_bytes(SIZE, seed=20), "normal")).status_code == 200
    before = lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]
    keys_before = image_keys(server)
    parts = [
        *image_parts("good", png_bytes(SIZE, seed=21), "normal"),
        *image_parts("text", b"just some notes", "normal", filename="notes.txt"),
        *image_parts("small", png_bytes((32, 32), seed=22), "normal"),
        *image_parts("badmask", png_bytes(SIZE, seed=23), "anomaly", mask=square_mask((80, 80))),
        *image_parts("badlabel", png_bytes(SIZE, seed=24), "defective"),
        *image_parts("classonnormal", png_bytes(SIZE, seed=25), "normal", anomaly_class="dent"),
    ]
    message = assert_validation_error(
        upload(server, project, "train", parts),
        "5 of 6",
        "image.text (notes.txt): the image is not a PNG or JPEG",
        "image.small (small.png): the image is 32x32 pixels",
        "mask.badmask (badmask_mask.png): the mask is 80x80 pixels but the image is 64x64",
        "label.badlabel: label 'defective' must be normal, anomaly or unlabeled",
        "image.classonnormal (classonnormal.png): an anomaly class needs the label 'anomaly'",
    )
    assert "image.good" not in message
    after = lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]
    assert after == before
    assert image_keys(server) == keys_before


@pytest.mark.parametrize(
    ("parts", "message_part"),
    [
        ([("image.a", ("a.png", png_bytes(SIZE), "image/png"))], "label.a is missing"),
        ([("label.a", "normal")], "label.a: there is no image.a"),
        ([("image.a", "not a file"), ("label.a", "normal")], "image.a: must be a file part"),
        ([("picture.a", ("a.png", png_bytes(SIZE), "image/png"))], "picture.a: unexpected part"),
        ([("image.a/b", ("a.png", png_bytes(SIZE), "image/png"))], "image.a/b: unexpected part"),
        ([*image_parts("a", png_bytes(SIZE), "normal"), ("label.a", "anomaly")], "label.a: the part is repeated"),
        (
            [*image_parts("a", png_bytes(SIZE), "normal"), ("mask.a", ("m.png", png_bytes(SIZE), "image/png"))],
            "a mask needs the label 'anomaly'",
        ),
        ([], "no images"),
    ],
    ids=["no-label", "no-image", "text-image", "unknown-field", "bad-id", "repeated", "mask-on-normal", "empty"],
)
def test_malformed_batches_are_refused(server: LiveServer, project: str, parts: list, message_part: str) -> None:
    assert_validation_error(upload(server, project, "train", parts), message_part)


def test_too_many_images_are_refused_before_reading_them(server: LiveServer, project: str) -> None:
    data = png_bytes(SIZE, seed=30)
    parts = [part for index in range(101) for part in image_parts(f"i{index}", data, "normal")]
    assert_validation_error(upload(server, project, "train", parts), "holds 101 images; send at most 100")


def test_non_multipart_body_is_refused(server: LiveServer, project: str) -> None:
    url = f"{server.url}/2020-11-20/projects/{project}/datasets/train/images"
    body = b'{"image": "a.png"}'
    headers = signed_headers(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "application/json"},
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )
    assert_validation_error(httpx.post(url, content=body, headers=headers), "multipart/form-data")


def test_missing_project_and_bad_dataset_type(server: LiveServer, project: str) -> None:
    parts = image_parts("a", png_bytes(SIZE, seed=40), "normal")
    missing = upload(server, project + "-missing", "train", parts)
    assert missing.status_code == 404
    assert missing.json()["__type"] == "ResourceNotFoundException"
    assert_validation_error(upload(server, project, "validation", parts), "DatasetType")


def test_unsigned_upload_is_refused_and_creates_nothing(server: LiveServer, project: str, lv: Any) -> None:
    request = upload_request(server, project, "train", image_parts("a", png_bytes(SIZE, seed=50), "normal"))
    denied = httpx.post(
        str(request.url), content=request.read(), headers={"Content-Type": request.headers["Content-Type"]}
    )
    assert denied.status_code == 403 and denied.json()["__type"] == "AccessDeniedException"
    with pytest.raises(ClientError) as excinfo:
        lv.describe_dataset(ProjectName=project, DatasetType="train")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"

"""The dataset flow once through a live service whose storage is S3 (LV_STORAGE_BACKEND=s3, moto_server)."""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.helpers.data import png_bytes
from tests.helpers.ext_api import image_parts, upload
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.manifests import wait_for_dataset
from tests.helpers.s3_server import S3Server

BUCKET = "openlv-service"
SIZE = (64, 64)


@pytest.fixture(scope="module")
def s3_service(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home: Path = tmp_path_factory.mktemp("lv-home-s3")
    with run_live_server(make_settings(home, **s3_server.settings_overrides(BUCKET))) as live:
        yield live


def test_import_from_the_bucket_then_upload(s3_service: LiveServer, s3_server: S3Server) -> None:
    outside = s3_server.boto3_client()
    tree = {
        "train/good/000.png": png_bytes(SIZE, seed=1),
        "train/good/001.png": png_bytes(SIZE, seed=2),
        "test/good/000.png": png_bytes(SIZE, seed=3),
    }
    for name, data in tree.items():
        outside.put_object(Bucket=BUCKET, Key=f"incoming/widgets/{name}", Body=data)
    lv = s3_service.boto3_client()
    lv.create_project(ProjectName="widgets")
    imported = lv.import_dataset_entries(
        ProjectName="widgets", DatasetType="train", S3Uri=f"s3://{BUCKET}/incoming/widgets/", Layout="mvtec"
    )
    assert imported["ImportedImages"]["Total"] == 2

    response = upload(s3_service, "widgets", "train", image_parts("new", png_bytes(SIZE, seed=4), "normal"))
    assert response.status_code == 200, response.text
    assert response.json()["ImageStats"]["Total"] == 3
    source_ref = response.json()["Images"][0]["SourceRef"]
    assert source_ref.startswith(f"s3://{BUCKET}/images/")
    stored = outside.get_object(Bucket=BUCKET, Key=source_ref.removeprefix(f"s3://{BUCKET}/"))["Body"].read()
    assert stored == png_bytes(SIZE, seed=4)

    entries = lv.list_dataset_entries(ProjectName="widgets", DatasetType="train")["DatasetEntries"]
    refs = {json.loads(line)["source-ref"] for line in entries}
    assert refs == {
        f"s3://{BUCKET}/incoming/widgets/train/good/000.png",
        f"s3://{BUCKET}/incoming/widgets/train/good/001.png",
        source_ref,
    }
    stored_images = outside.list_objects_v2(Bucket=BUCKET, Prefix="images/")["KeyCount"]
    assert stored_images == 3


def test_manifest_dataset_from_the_bucket(s3_service: LiveServer, s3_server: S3Server) -> None:
    outside = s3_server.boto3_client()
    image = png_bytes(SIZE, seed=10)
    outside.put_object(Bucket=BUCKET, Key="manifests/img.png", Body=image)
    line: dict[str, Any] = {
        "source-ref": f"s3://{BUCKET}/manifests/img.png",
        "anomaly-label": 0,
        "anomaly-label-metadata": {"class-name": "normal", "human-annotated": "yes"},
    }
    outside.put_object(Bucket=BUCKET, Key="manifests/test.manifest", Body=json.dumps(line).encode() + b"\n")
    lv = s3_service.boto3_client()
    lv.create_project(ProjectName="gears")
    lv.create_dataset(
        ProjectName="gears",
        DatasetType="test",
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Key": "manifests/test.manifest"}}},
    )
    stats = wait_for_dataset(lv, "gears", "test")["ImageStats"]
    assert stats == {"Total": 1, "Labeled": 1, "Normal": 1, "Anomaly": 0}
    lv.delete_dataset(ProjectName="gears", DatasetType="test")
    remaining = {obj["Key"] for obj in outside.list_objects_v2(Bucket=BUCKET, Prefix="images/").get("Contents", [])}
    assert not any(key.endswith(".png") and hashlib.sha256(image).hexdigest() in key for key in remaining)

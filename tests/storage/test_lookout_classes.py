"""Anomaly classes through boto3 on the S3 backend (moto_server): a dataset made from a Ground Truth segmentation
manifest whose masks name two classes in their own colours trains a model that DetectAnomalies answers with those
classes (Lookout for Vision's multi-class segmentation), and the mask it returns is painted in the manifest's colours.
"""

import base64
import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.config import Config
from PIL import Image

from service.engine.inference import load_inferencer
from tests.conftest import make_settings
from tests.helpers.data import CLASS_COLOURS, class_defect_image, colour_map
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.manifests import wait_for_dataset
from tests.helpers.s3_server import S3Server
from tests.jobs.seed import FAST_TRAINING
from tests.storage.test_lookout_compat import CustomerBucket, csv_tool_line

SERVICE_BUCKET = "openlv-classes"
TIMEOUT_S = 480


@pytest.fixture(scope="module")
def s3_service(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home: Path = tmp_path_factory.mktemp("lv-home-classes")
    with run_live_server(make_settings(home, **s3_server.settings_overrides(SERVICE_BUCKET))) as live:
        yield live


def segmentation_line(bucket: CustomerBucket, name: str, kind: str | None, seed: int) -> dict[str, Any]:
    """A Ground Truth line: the image, its label under the job's attribute and, for a defect, its colour-coded mask
    under the segmentation job's attribute with the job's whole colour map."""
    image, mask = class_defect_image(kind, seed=seed)
    line = csv_tool_line(bucket.put(f"images/{name}.png", image), "anomaly" if kind else "normal", attribute="defects")
    if mask is not None:
        line["defects-ref"] = bucket.put(f"masks/{name}.png", mask)
        line["defects-ref-metadata"] = {
            "internal-color-map": colour_map(),
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes",
            "creation-date": "2021-04-01T00:00:00.000",
            "job-name": "labeling-job/defect-segmentation",
        }
    return line


def wait_model(lv: Any, project: str, wanted: str, busy: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while (description := lv.describe_model(ProjectName=project, ModelVersion="1")["ModelDescription"])[
        "Status"
    ] == busy:
        assert time.monotonic() < deadline, f"model still {busy} after {TIMEOUT_S}s"
        time.sleep(0.1)
    assert description["Status"] == wanted, description["StatusMessage"]
    return description


def mask_colours(answer: dict[str, Any]) -> dict[str, float]:
    """The AnomalyMask's colours ("#rrggbb") and the share of the image each covers."""
    mask = answer["AnomalyMask"]  # boto3 hands the blob decoded; a JSON reply holds it in base64
    png = base64.b64decode(mask) if isinstance(mask, str) else mask
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    return {
        "#" + "".join(f"{channel:02x}" for channel in colour): count / counts.sum()
        for colour, count in zip(colours, counts, strict=True)
    }


def edge_bundle(lv: Any, customer: CustomerBucket, project: str, folder: Path) -> Path:
    """Package model 1 for the edge into the customer's bucket and unzip the bundle into `folder`."""
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
    (key,) = customer.keys("edge/")
    with zipfile.ZipFile(io.BytesIO(customer.get(key))) as archive:
        archive.extractall(folder)
    return folder


@pytest.mark.timeout(1200)  # trains, hosts and packages: minutes on a machine shared with other jobs
def test_a_segmentation_manifest_with_two_classes_trains_a_model_that_names_them(
    s3_service: LiveServer, s3_server: S3Server, tmp_path: Path
) -> None:
    customer = CustomerBucket(s3_server.boto3_client(), f"classes-{uuid.uuid4().hex[:12]}")
    # A long read timeout: a retried CreateModel that overtakes its own slow first attempt (a machine under load)
    # meets the version that attempt created.
    lv = s3_service.boto3_client(config=Config(read_timeout=300))
    project = f"classes-{uuid.uuid4().hex[:6]}"
    lines = [segmentation_line(customer, f"good-{index}", None, seed=index) for index in range(20)]
    lines += [
        segmentation_line(customer, f"{kind}-{index}", kind, seed=100 + 2 * index + offset)
        for index in range(5)
        for offset, kind in enumerate(("scratch", "blob"))
    ]
    lv.create_project(ProjectName=project)
    source = customer.put_manifest("manifests/segmentation.manifest", lines)
    lv.create_dataset(ProjectName=project, DatasetType="train", DatasetSource=source)
    assert wait_for_dataset(lv, project)["ImageStats"] == {"Total": 30, "Labeled": 30, "Normal": 20, "Anomaly": 10}

    lv.create_model(ProjectName=project, OutputConfig={"S3Location": {"Bucket": customer.name}}, **FAST_TRAINING)
    wait_model(lv, project, "TRAINED", "TRAINING")
    lv.start_model(ProjectName=project, ModelVersion="1", MinInferenceUnits=1)
    wait_model(lv, project, "HOSTED", "STARTING_HOSTING")
    bundle = edge_bundle(lv, customer, project, tmp_path / "edge")
    on_device = [load_inferencer(bundle, "onnx"), load_inferencer(bundle, "openvino")]
    try:
        for kind, seed in (("scratch", 900), ("blob", 901), ("scratch", 902), ("blob", 903)):
            image, truth = class_defect_image(kind, seed=seed)
            answer = lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=image, ContentType="image/png")[
                "DetectAnomalyResult"
            ]
            assert answer["IsAnomalous"] is True, kind
            background, *found = answer["Anomalies"]
            assert background["Name"] == "background"
            assert background["PixelAnomaly"]["Color"] == CLASS_COLOURS["BACKGROUND"], "the manifest's background"
            assert [item["Name"] for item in found] == [kind], (kind, found)
            (named,) = found
            area = named["PixelAnomaly"]["TotalPercentageArea"]
            assert named["PixelAnomaly"]["Color"] == CLASS_COLOURS[kind]
            defect_share = mask_colours({"AnomalyMask": base64.b64encode(truth or b"").decode()})[CLASS_COLOURS[kind]]
            assert defect_share / 4 < area < 0.3, (kind, area, defect_share)
            assert background["PixelAnomaly"]["TotalPercentageArea"] + area == pytest.approx(1.0)
            painted = mask_colours(answer)
            assert set(painted) == {CLASS_COLOURS["BACKGROUND"], CLASS_COLOURS[kind]}
            assert painted[CLASS_COLOURS[kind]] == pytest.approx(area, abs=1e-6)
            for inferencer in on_device:
                (edge,) = inferencer.predict_image(image).classes
                assert (edge.name, edge.color) == (kind, CLASS_COLOURS[kind]), "the edge bundle names it alike"
                assert edge.area_percentage / 100 == pytest.approx(area, abs=0.01)
        normal = lv.detect_anomalies(
            ProjectName=project, ModelVersion="1", Body=class_defect_image(None, seed=950)[0], ContentType="image/png"
        )["DetectAnomalyResult"]
        assert normal["IsAnomalous"] is False
        assert [item["Name"] for item in normal["Anomalies"]] == ["background"]
    finally:
        lv.stop_model(ProjectName=project, ModelVersion="1")

"""StartModel -> HOSTED -> DetectAnomalies -> StopModel through boto3 against a live server, and the AWS errors."""

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Model, Project
from service.engine.data import ImageRecord
from tests.helpers.live_server import LiveServer
from tests.hosting.models import (
    add_trained_model,
    defective_pixels,
    encode,
    normal_pixels,
    tiny_model,
    wait_for_status,
)

__all__ = ["tiny_model"]

TinyModel = tuple[Path, list[ImageRecord]]


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


@pytest.fixture
def hosted(server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel) -> str:
    """A project whose model 1 is hosted on one unit (max 2); stopped afterwards."""
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, tiny_model[0])
    started = lv.start_model(ProjectName=project_name, ModelVersion="1", MinInferenceUnits=1, MaxInferenceUnits=2)
    assert started["Status"] == "STARTING_HOSTING"
    wait_for_status(lv, project_name, "1", "HOSTED")
    yield project_name
    lv.stop_model(ProjectName=project_name, ModelVersion="1")
    wait_for_status(lv, project_name, "1", "TRAINED")


def detect(lv: Any, project: str, body: bytes, content_type: str = "image/png") -> dict[str, Any]:
    response = lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=body, ContentType=content_type)
    return response["DetectAnomalyResult"]


def test_a_hosted_model_judges_good_and_defective_images(lv: Any, hosted: str, tiny_model: TinyModel) -> None:
    record = tiny_model[1][0]
    good = detect(lv, hosted, encode(normal_pixels(record)))
    defective = detect(lv, hosted, encode(defective_pixels(record), "JPEG", size=(100, 80)), "image/jpeg")

    assert good["Source"] == {"Type": "direct"}
    assert good["IsAnomalous"] is False and 0.5 <= good["Confidence"] <= 1.0
    assert good["Anomalies"] == [
        {"Name": "background", "PixelAnomaly": {"TotalPercentageArea": 1.0, "Color": "#FFFFFF"}}
    ]

    assert defective["IsAnomalous"] is True and 0.5 <= defective["Confidence"] <= 1.0
    background, anomaly = defective["Anomalies"]
    assert background["Name"] == "background" and anomaly["Name"] == "anomaly"
    assert anomaly["PixelAnomaly"]["Color"] == "#FF0000" and anomaly["PixelAnomaly"]["TotalPercentageArea"] > 0
    total = background["PixelAnomaly"]["TotalPercentageArea"] + anomaly["PixelAnomaly"]["TotalPercentageArea"]
    assert total == pytest.approx(1.0)
    mask = Image.open(io.BytesIO(defective["AnomalyMask"]))
    assert mask.format == "PNG" and mask.size == (100, 80)
    red = (np.asarray(mask.convert("RGB")) == [255, 0, 0]).all(axis=2).mean()
    assert red == pytest.approx(anomaly["PixelAnomaly"]["TotalPercentageArea"], abs=1e-6)


def test_describe_model_reports_the_units_asked_for(lv: Any, hosted: str) -> None:
    description = lv.describe_model(ProjectName=hosted, ModelVersion="1")["ModelDescription"]
    assert (description["MinInferenceUnits"], description["MaxInferenceUnits"]) == (1, 2)


def test_threshold_changes_apply_to_the_next_request_without_a_restart(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel
) -> None:
    body = encode(defective_pixels(tiny_model[1][1]))
    assert detect(lv, hosted, body)["IsAnomalous"] is True
    set_threshold(server, hosted, 1.0 + 1e-6)
    after = detect(lv, hosted, body)
    assert after["IsAnomalous"] is False
    assert after["Anomalies"] == [
        {"Name": "background", "PixelAnomaly": {"TotalPercentageArea": 1.0, "Color": "#FFFFFF"}}
    ]
    set_threshold(server, hosted, 0.5)
    assert detect(lv, hosted, body)["IsAnomalous"] is True


def set_threshold(server: LiveServer, project_name: str, value: float) -> None:
    """What the threshold API writes: the model version's normalised image threshold."""
    with transaction(server.context.engine) as session:
        project = session.exec(select(Project).where(Project.name == project_name)).one()
        model = session.exec(select(Model).where(Model.project_id == project.id, Model.version == 1)).one()
        model.image_threshold = value
        session.add(model)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"not an image at all", "image/png", "neither a PNG nor a JPEG"),
        (None, "image/jpeg", "body is a PNG image"),
        (None, "image/gif", "not supported"),
    ],
)
def test_invalid_images_are_a_validation_error(
    lv: Any, hosted: str, tiny_model: TinyModel, body: bytes | None, content_type: str, message: str
) -> None:
    payload = body if body is not None else encode(normal_pixels(tiny_model[1][0]))
    with pytest.raises(ClientError) as error:
        detect(lv, hosted, payload, content_type)
    assert error_code(error) == "ValidationException"
    assert message in error.value.response["Error"]["Message"]


def test_models_that_are_not_hosted_answer_as_lookout_for_vision_does(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel
) -> None:
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, tiny_model[0])
    body = encode(normal_pixels(tiny_model[1][0]))
    with pytest.raises(ClientError) as trained:
        detect(lv, project_name, body)
    assert error_code(trained) == "ConflictException"
    assert "not hosted" in trained.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        lv.detect_anomalies(ProjectName=project_name, ModelVersion="7", Body=body, ContentType="image/png")
    assert error_code(missing) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as stop:
        lv.stop_model(ProjectName=project_name, ModelVersion="1")
    assert error_code(stop) == "ConflictException"
    with pytest.raises(ClientError) as units:
        lv.start_model(ProjectName=project_name, ModelVersion="1", MinInferenceUnits=2, MaxInferenceUnits=1)
    assert error_code(units) == "ValidationException"


def test_starting_twice_conflicts_and_stopping_ends_detection(lv: Any, hosted: str, tiny_model: TinyModel) -> None:
    with pytest.raises(ClientError) as again:
        lv.start_model(ProjectName=hosted, ModelVersion="1", MinInferenceUnits=1)
    assert error_code(again) == "ConflictException"
    assert lv.stop_model(ProjectName=hosted, ModelVersion="1")["Status"] == "STOPPING_HOSTING"
    wait_for_status(lv, hosted, "1", "TRAINED")
    with pytest.raises(ClientError) as stopped:
        detect(lv, hosted, encode(normal_pixels(tiny_model[1][0])))
    assert error_code(stopped) == "ConflictException"
    lv.start_model(ProjectName=hosted, ModelVersion="1", MinInferenceUnits=1)
    wait_for_status(lv, hosted, "1", "HOSTED")


def test_a_model_whose_artefacts_cannot_load_fails_hosting_with_the_reason(
    server: LiveServer, lv: Any, project_name: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"this is not an ONNX graph")
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, broken)
    lv.start_model(ProjectName=project_name, ModelVersion="1", MinInferenceUnits=1)
    description = wait_for_status(lv, project_name, "1", "HOSTING_FAILED")
    assert "cannot be loaded" in description["StatusMessage"]
    assert lv.stop_model(ProjectName=project_name, ModelVersion="1")["Status"] == "STOPPING_HOSTING"
    wait_for_status(lv, project_name, "1", "TRAINED")


def test_describe_model_reports_the_units_serving_a_hosted_model(lv: Any, hosted: str) -> None:
    description = lv.describe_model(ProjectName=hosted, ModelVersion="1")["ModelDescription"]
    assert description["Status"] == "HOSTED"
    assert 1 <= description["CurrentInferenceUnits"] <= description["MaxInferenceUnits"] == 2

"""Runtime names: the three StartModel accepts, the old `onnx` setting value, and what an unknown name gets."""

import pytest
from pydantic import ValidationError

import sdk
from service.db.models import Model
from service.domain.runtimes import RUNTIMES, check_runtime, model_runtime
from service.errors import ValidationException
from service.settings import Settings


def test_the_setting_names_onnx_runtime_by_its_old_name_too(tmp_path) -> None:
    assert Settings(home=tmp_path).hosting_runtime == "onnxruntime"
    assert Settings(home=tmp_path, hosting_runtime="onnx").hosting_runtime == "onnxruntime"
    assert Settings(home=tmp_path, hosting_runtime="openvino-int8").hosting_runtime == "openvino-int8"
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, hosting_runtime="tensorrt")


def test_a_model_runs_its_own_runtime_else_the_setting(tmp_path) -> None:
    settings = Settings(home=tmp_path, hosting_runtime="openvino")
    model = Model(project_id=1, version=1, status="TRAINED", algorithm="padim", artifacts_prefix="p/")
    assert model_runtime(model, settings) == "openvino"
    model.runtime = "openvino-int8"
    assert model_runtime(model, settings) == "openvino-int8"


def test_unknown_runtimes_are_refused_with_the_known_ones() -> None:
    assert check_runtime(None) is None and check_runtime("onnx") == "onnxruntime"
    with pytest.raises(ValidationException, match="onnxruntime, openvino, openvino-int8"):
        check_runtime("OpenVINO")


def test_the_sdk_and_the_service_model_name_the_same_runtimes() -> None:
    client = sdk.boto3_client(
        "http://127.0.0.1:1", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    shape = client.meta.service_model.shape_for("Runtime")
    assert tuple(shape.enum) == RUNTIMES == sdk.RUNTIMES

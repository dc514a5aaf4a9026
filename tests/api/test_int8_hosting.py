"""Hosting runtimes end to end: a model trained with Runtime openvino-int8 (CreateModel, through the SDK and the job
runner) is quantised at its first StartModel, hosted and answers DetectAnomalies through boto3; a replica whose INT8
limit no model can meet refuses it with both AUROCs and still hosts it with another runtime; the SDK and the CLI pick
runtimes; unknown runtimes are ValidationExceptions. One tiny PaDiM (64 px, random weights) serves every test."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from sqlmodel import select

import sdk
from cli.main import cli
from service.db.engine import transaction
from service.db.models import Model
from service.domain.quantisation import REPORT
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.settings import Settings
from tests.cli.conftest import isolated_env
from tests.helpers.data import synthetic_dataset
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import wait_for_status
from tests.sdk.conftest import sdk_client

PROJECT = "int8"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lv-home-int8")


@pytest.fixture(scope="module")
def live(home: Path) -> Iterator[LiveServer]:
    # A 64 px PaDiM with random weights loses accuracy in INT8 (it is refused at the default limit), so this server
    # accepts any drop; the replica in the refusal test accepts none.
    with run_live_server(Settings(home=home, hosting_int8_max_auroc_drop=1.0)) as server:
        yield server


@pytest.fixture(scope="module")
def trained(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sdk.Model, Path]]:
    root = synthetic_dataset(tmp_path_factory.mktemp("int8-data"), n_train=10, n_test_good=10, n_test_defect=4)
    with sdk_client(live) as client:
        project = sdk.Project.create(PROJECT, client=client)
        project.datasets.import_mvtec(root)
        model = project.train(algorithm="padim", image_size=64, weights="random", runtime="openvino-int8")
        yield model.wait(timeout=300), root


def _describe(lv: Any) -> dict[str, Any]:
    return lv.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]


def _detect(lv: Any, root: Path) -> dict[str, Any]:
    body = min((root / "test").glob("*/*.png")).read_bytes()
    answer = lv.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")
    return answer["DetectAnomalyResult"]


def _stop(lv: Any) -> None:
    lv.stop_model(ProjectName=PROJECT, ModelVersion="1")
    wait_for_status(lv, PROJECT, "1", "TRAINED")


def test_an_int8_model_is_built_once_hosted_and_answers(live: LiveServer, trained: tuple[sdk.Model, Path]) -> None:
    model, root = trained
    assert model.runtime == "openvino-int8"
    lv = live.boto3_client()
    lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, Runtime="openvino-int8")
    assert wait_for_status(lv, PROJECT, "1", "HOSTED")["Runtime"] == "openvino-int8"
    answer = _detect(lv, root)
    assert 0.5 <= answer["Confidence"] <= 1.0 and answer["AnomalyMask"].startswith(b"\x89PNG")
    _stop(lv)
    report = json.loads(live.context.store.get(_artifacts(live) + REPORT))
    assert report["test_images"] == len(list((root / "test").glob("*/*.png"))) and report["calibration_images"] == 10
    assert 0.5 < report["f32_auroc"] <= 1.0 and 0.0 <= report["int8_auroc"] <= 1.0
    assert live.context.store.exists(_artifacts(live) + "openvino-int8/model.bin")


def test_a_refused_int8_model_names_both_aurocs_and_hosts_with_another_runtime(
    live: LiveServer, trained: tuple[sdk.Model, Path], home: Path
) -> None:
    _, root = trained
    strict = live.settings.model_copy(
        update={"hosting_int8_max_auroc_drop": -1.0, "hosting_cache_dir": str(home / "strict-cache")}
    )
    with run_live_server(strict) as replica:
        lv = replica.boto3_client()
        with pytest.raises(ClientError) as refused:
            lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, Runtime="openvino-int8")
        error = refused.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert len(re.findall(r"AUROC|f32|[01]\.\d{4}", error["Message"])) >= 4, error["Message"]
        assert _describe(lv)["Status"] == "TRAINED"
        lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, Runtime="onnxruntime")
        assert wait_for_status(lv, PROJECT, "1", "HOSTED")["Runtime"] == "onnxruntime"
        assert _detect(lv, root)["AnomalyMask"].startswith(b"\x89PNG")
        _stop(lv)


@pytest.mark.parametrize("runtime", ["tensorrt", "OPENVINO", ""])
def test_an_unknown_runtime_is_a_validation_error(live: LiveServer, trained: tuple[sdk.Model, Path], runtime) -> None:
    lv = live.boto3_client()
    with pytest.raises(ClientError) as error:
        lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, Runtime=runtime)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "onnxruntime, openvino, openvino-int8" in error.value.response["Error"]["Message"]
    assert _describe(lv)["Status"] == "TRAINED"


def test_the_sdk_starts_a_model_with_the_runtime_it_names(live: LiveServer, trained: tuple[sdk.Model, Path]) -> None:
    _, root = trained
    with sdk_client(live) as client:
        model = sdk.Model.get(PROJECT, "1", client=client).start(runtime="openvino", timeout=120)
        try:
            assert (model.status, model.runtime) == ("HOSTED", "openvino")
            assert model.detect(min((root / "test" / "good").glob("*.png"))).confidence >= 0.5
        finally:
            model.stop()


def test_the_cli_starts_a_model_with_runtime(live: LiveServer, trained: tuple[sdk.Model, Path], tmp_path) -> None:
    env = isolated_env(tmp_path)
    runner = CliRunner()
    configure = ["configure", "--endpoint-url", live.url, "--region", live.settings.region]
    keys = ["--access-key-id", live.access_key_id, "--secret-access-key", live.secret_access_key]
    assert runner.invoke(cli, [*configure, *keys], env=env).exit_code == 0
    started = runner.invoke(
        cli, ["models", "start", "1", "-p", PROJECT, "--runtime", "openvino-int8", "--json"], env=env
    )
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["Runtime"] == "openvino-int8"
    wrong = runner.invoke(cli, ["models", "start", "1", "-p", PROJECT, "--runtime", "tflite"], env=env)
    assert wrong.exit_code == 2 and "tflite" in wrong.output
    assert runner.invoke(cli, ["models", "stop", "1", "-p", PROJECT], env=env).exit_code == 0


def _artifacts(live: LiveServer) -> str:
    with transaction(live.context.engine) as session:
        return session.exec(select(Model)).one().artifacts_prefix + ARTIFACTS_FOLDER

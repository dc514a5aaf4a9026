"""Hosting behaviour that needs its own server: throttling with a tiny queue, and re-hosting after a restart."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.hosting import unit as unit_module
from service.hosting.batch import predict_batch
from tests.api.test_hosting import TinyModel
from tests.conftest import make_settings
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import add_trained_model, defective_pixels, encode, tiny_model, wait_for_status

__all__ = ["tiny_model"]

ONE_UNIT_ONE_SLOT = {"LV_HOSTING_QUEUE_PER_UNIT": "1", "LV_HOSTING_MAX_BATCH": "1"}


@pytest.fixture(scope="module")
def cramped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose hosted models queue one request per unit."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in ONE_UNIT_ONE_SLOT.items():
            env.setenv(name, value)
        with run_live_server(make_settings(tmp_path_factory.mktemp("lv-cramped"))) as live:
            yield live


def test_a_full_model_throttles_with_retry_after_and_nothing_hangs(
    cramped: LiveServer, tiny_model: TinyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One unit with one queue slot, held busy: of 16 requests released together, the one in the unit and the one in
    the slot are answered once the unit is let go (after 14 answers), the others are throttled at once with
    Retry-After."""
    lv = cramped.boto3_client(config=Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=60))
    lv.create_project(ProjectName="throttled")
    add_trained_model(cramped, "throttled", tiny_model[0])
    lv.start_model(ProjectName="throttled", ModelVersion="1", MinInferenceUnits=1, MaxInferenceUnits=1)
    wait_for_status(lv, "throttled", "1", "HOSTED")
    body = encode(defective_pixels(tiny_model[1][0]))
    let_go = threading.Event()

    def held(predictor: Any, requests: Any) -> Any:
        let_go.wait(timeout=60)
        return predict_batch(predictor, requests)

    monkeypatch.setattr(unit_module, "predict_batch", held)
    start = threading.Barrier(16)

    def call(_: int) -> tuple[str, dict[str, str]]:
        start.wait()
        try:
            lv.detect_anomalies(ProjectName="throttled", ModelVersion="1", Body=body, ContentType="image/png")
            return "ok", {}
        except ClientError as error:
            return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPHeaders"]

    outcomes: list[tuple[str, dict[str, str]]] = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        for future in as_completed([pool.submit(call, index) for index in range(16)], timeout=90):
            outcomes.append(future.result())
            if len(outcomes) == 14:
                let_go.set()
    codes = [code for code, _ in outcomes]
    # Two answers, or one when every other request arrived before the unit took the first from its slot.
    assert codes.count("ok") in (1, 2) and codes.count("ThrottlingException") == 16 - codes.count("ok"), codes
    assert all(int(headers["retry-after"]) >= 1 for code, headers in outcomes if code != "ok")
    lv.stop_model(ProjectName="throttled", ModelVersion="1")
    wait_for_status(lv, "throttled", "1", "TRAINED")


def test_hosted_models_are_hosted_again_after_a_restart(tmp_path: Path, tiny_model: TinyModel) -> None:
    settings = make_settings(tmp_path / "home")
    with run_live_server(settings) as first:
        lv = first.boto3_client()
        lv.create_project(ProjectName="restarted")
        add_trained_model(first, "restarted", tiny_model[0])
        add_trained_model(first, "restarted", tiny_model[0], version=2)
        lv.start_model(ProjectName="restarted", ModelVersion="1", MinInferenceUnits=1)
        wait_for_status(lv, "restarted", "1", "HOSTED")
    with run_live_server(settings) as second:
        lv = second.boto3_client()
        wait_for_status(lv, "restarted", "1", "HOSTED")
        assert lv.describe_model(ProjectName="restarted", ModelVersion="2")["ModelDescription"]["Status"] == "TRAINED"
        result = detect_defect(lv, tiny_model)
        assert result["IsAnomalous"] is True
        lv.stop_model(ProjectName="restarted", ModelVersion="1")
        wait_for_status(lv, "restarted", "1", "TRAINED")


def detect_defect(lv: Any, tiny_model: TinyModel) -> dict[str, Any]:
    body = encode(defective_pixels(tiny_model[1][0]))
    response = lv.detect_anomalies(ProjectName="restarted", ModelVersion="1", Body=body, ContentType="image/png")
    return response["DetectAnomalyResult"]

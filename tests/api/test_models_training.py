"""CreateModel -> TRAINED through boto3 on a live server, evaluation outputs, thresholds, DeleteModel, DeleteProject."""

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from service.engine import metrics
from tests.helpers.live_server import LiveServer
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project

TRAINING_TIMEOUT_S = 120


def wait_for_status(lv: Any, project: str, version: str, *, leaving: str = "TRAINING") -> dict[str, Any]:
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while time.monotonic() < deadline:
        description = lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]
        if description["Status"] != leaving:
            return description
        time.sleep(0.3)
    raise AssertionError(f"model {project}/{version} still {leaving} after {TRAINING_TIMEOUT_S}s")


@pytest.fixture(scope="module")
def trained(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One project trained once for the whole module: (10 normal) train, (10 normal, 10 anomalous) test."""
    name = f"trained-{server.settings.resolved_home.name[-8:]}"
    seed_project(server.context, name, tmp_path_factory.mktemp("seed"), train=(10, 0), test=(10, 10))
    lv = server.boto3_client()
    created = lv.create_model(ProjectName=name, OutputConfig=OUTPUT, Description="first", **FAST_TRAINING)
    progress = [lv.describe_training_job(ProjectName=name, ModelVersion="1")["TrainingJob"]]
    description = wait_for_status(lv, name, "1")
    yield {"project": name, "created": created["ModelMetadata"], "description": description, "progress": progress}


def test_create_model_trains_to_trained_with_performance(trained: dict[str, Any]) -> None:
    created, description = trained["created"], trained["description"]
    assert created["ModelVersion"] == "1" and created["Status"] == "TRAINING"
    assert created["Algorithm"] == "patchcore"
    assert trained["progress"][0]["State"] in {"QUEUED", "RUNNING"}
    assert description["Status"] == "TRAINED", description["StatusMessage"]
    performance = description["Performance"]
    assert set(performance) == {"F1Score", "Precision", "Recall"}
    assert all(0.0 <= value <= 1.0 for value in performance.values())
    assert description["Hyperparameters"] == FAST_TRAINING["Hyperparameters"]
    assert description["OutputConfig"] == OUTPUT
    assert description["Description"] == "first"


def test_training_log_and_final_progress(lv: Any, trained: dict[str, Any]) -> None:
    answer = lv.describe_training_job(ProjectName=trained["project"], ModelVersion="1")
    job = answer["TrainingJob"]
    assert (job["State"], job["Phase"], job["Percent"], job["Attempts"]) == ("SUCCEEDED", "done", 100.0, 1)
    messages = [line["Message"] for line in answer["Log"]]
    assert messages[0] == "Job queued." and messages[-1] == "Training finished."
    assert any(message.startswith("training:") for message in messages)
    later = lv.describe_training_job(ProjectName=trained["project"], ModelVersion="1", LogAfter=answer["Log"][-2]["Id"])
    assert [line["Message"] for line in later["Log"]] == ["Training finished."]


def test_evaluation_objects_in_storage(server: LiveServer, trained: dict[str, Any]) -> None:
    description, store, project = trained["description"], server.context.store, trained["project"]
    assert description["EvaluationManifest"] == {
        "Bucket": server.settings.storage_bucket,
        "Key": f"training-output/EvaluationManifest-{project}-1.json",
    }
    assert description["EvaluationResult"]["Key"] == f"training-output/EvaluationResult-{project}-1.json"
    manifest = store.get(description["EvaluationManifest"]["Key"]).decode().splitlines()
    lines = [json.loads(line) for line in manifest]
    assert len(lines) == 20
    assert sorted(line["anomaly-label"] for line in lines) == [0] * 10 + [1] * 10
    detected = np.array([line["anomaly-label-detected"] for line in lines])
    truth = np.array([line["anomaly-label"] for line in lines])
    recall = (detected & truth).sum() / truth.sum()
    assert recall == pytest.approx(description["Performance"]["Recall"])
    assert all(0.5 <= line["anomaly-label-detected-metadata"]["confidence"] <= 1.0 for line in lines)
    result = json.loads(store.get(description["EvaluationResult"]["Key"]))
    assert result["EvaluationDetails"]["NumberOfTestingImages"] == 20
    assert result["EvaluationDetails"]["NumberOfTrainingImages"] == 10
    assert result["AggregatedEvaluationResults"]["Metrics"]["F1Score"] == description["Performance"]["F1Score"]
    artefacts = {key.split("/", 3)[-1] for key in store.list(f"training-output/{project}/")}
    assert {"artifacts/model.onnx", "artifacts/metadata.json", "evaluation/scores.json"} <= artefacts


def test_describe_evaluation_and_curves(lv: Any, trained: dict[str, Any]) -> None:
    project = trained["project"]
    evaluation = lv.describe_model_evaluation(ProjectName=project, ModelVersion="1")
    assert evaluation["ThresholdPolicy"] == {"Policy": "F1_OPTIMAL"}
    images = evaluation["Images"]
    assert len(images) == 20
    labels = np.array([image["Label"] == "anomaly" for image in images], dtype=int)
    scores = np.array([image["Score"] for image in images])
    confusion = evaluation["ConfusionMatrix"]
    assert confusion["TruePositives"] == int(((scores >= evaluation["Threshold"]) & (labels == 1)).sum())
    assert sum(confusion.values()) == 20
    assert 0.0 <= evaluation["Metrics"]["ImageAUROC"] <= 1.0
    assert "PixelAUROC" in evaluation["Metrics"]
    curves = lv.get_model_curves(ProjectName=project, ModelVersion="1")
    roc = curves["Roc"]
    assert roc["FalsePositiveRate"][0] == 0.0 and roc["TruePositiveRate"][-1] == 1.0
    auc = float(np.trapezoid(roc["TruePositiveRate"], roc["FalsePositiveRate"]))
    assert auc == pytest.approx(metrics.image_auroc(labels, scores), abs=1e-9)
    assert len(curves["PrecisionRecall"]["Precision"]) == len(curves["PrecisionRecall"]["Thresholds"])
    # Each curve point comes with its two-sided Clopper-Pearson band, which holds the point.
    assert curves["ConfidenceLevel"] == 0.95
    for curve, rate in ((roc, "TruePositiveRate"), (roc, "FalsePositiveRate"), (curves["PrecisionRecall"], "Recall")):
        lower, value, upper = (np.array(curve[name]) for name in (rate + "Lower", rate, rate + "Upper"))
        assert lower.shape == value.shape == upper.shape and np.all(lower <= value) and np.all(value <= upper)
    narrow = lv.get_model_curves(ProjectName=project, ModelVersion="1", Confidence=0.5)["Roc"]
    assert np.all(np.array(narrow["TruePositiveRateUpper"]) <= np.array(roc["TruePositiveRateUpper"]))
    intervals = evaluation["Intervals"]
    recall = intervals["Recall"]
    assert intervals["ConfidenceLevel"] == 0.95 and recall["Trials"] == 10
    assert recall["Successes"] == confusion["TruePositives"]
    assert evaluation["Performance"]["Recall"] == pytest.approx(recall["Estimate"])
    assert recall["Lower"] <= recall["Estimate"] <= recall["Upper"]
    assert "Target" not in evaluation


def test_threshold_policies_and_history(server: LiveServer, lv: Any, trained: dict[str, Any]) -> None:
    project = trained["project"]
    evaluation = lv.describe_model_evaluation(ProjectName=project, ModelVersion="1")
    labels = np.array([image["Label"] == "anomaly" for image in evaluation["Images"]], dtype=int)
    scores = np.array([image["Score"] for image in evaluation["Images"]])

    full_recall = lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="TARGET_RECALL", Value=1.0)
    assert full_recall["Performance"]["Recall"] == 1.0
    expected_threshold, expected_precision = metrics.threshold_for_recall(labels, scores, 1.0)
    assert full_recall["Threshold"] <= expected_threshold
    assert full_recall["Performance"]["Precision"] == pytest.approx(expected_precision)
    assert full_recall["ConfusionMatrix"]["FalseNegatives"] == 0

    assert full_recall["Target"] == {"Metric": "Recall", "Value": 1.0, "Estimate": 1.0}

    # FPR 0 is reachable only when the top-scoring test image is a defect; otherwise it is refused, never missed.
    if labels[np.argmax(scores)] == 1 and np.sum(scores == scores.max()) == 1:
        no_alarms = lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="TARGET_FPR", Value=0.0)
        assert no_alarms["FalsePositiveRate"] == 0.0 and no_alarms["ConfusionMatrix"]["FalsePositives"] == 0
    else:
        with pytest.raises(ClientError, match="the lowest FPR reachable is"):
            lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="TARGET_FPR", Value=0.0)

    with pytest.raises(ClientError, match="at least 14 anomalous test images are needed") as too_few:
        lv.update_model_threshold(
            ProjectName=project, ModelVersion="1", Policy="TARGET_RECALL", Value=0.8, Confidence=0.95
        )
    assert too_few.value.response["Error"]["Code"] == "ValidationException"
    sure = lv.update_model_threshold(
        ProjectName=project, ModelVersion="1", Policy="TARGET_RECALL", Value=0.6, Confidence=0.6
    )
    assert sure["ThresholdPolicy"] == {"Policy": "TARGET_RECALL", "Value": 0.6, "Confidence": 0.6}
    target = sure["Target"]
    assert target["BoundSide"] == "LOWER" and 0.6 <= target["Bound"] <= target["Estimate"]
    assert target["Estimate"] == sure["Performance"]["Recall"]
    assert sure["Intervals"]["ConfidenceLevel"] == 0.6
    described = lv.describe_model_evaluation(ProjectName=project, ModelVersion="1")
    assert described["Target"] == target and described["Threshold"] == sure["Threshold"]

    manual = lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="MANUAL", Value=0.75)
    assert manual["Threshold"] == 0.75
    assert manual["ConfusionMatrix"]["TruePositives"] == int(((scores >= 0.75) & (labels == 1)).sum())
    description = lv.describe_model(ProjectName=project, ModelVersion="1")["ModelDescription"]
    assert description["Performance"] == manual["Performance"]

    with pytest.raises(ClientError) as refused:
        lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="MANUAL", Value=1.5)
    assert refused.value.response["Error"]["Code"] == "ValidationException"

    default = lv.update_model_threshold(ProjectName=project, ModelVersion="1", Policy="F1_OPTIMAL")
    assert default["Threshold"] == 0.5 and default["Performance"] == trained["description"]["Performance"]

    history = lv.list_threshold_history(ProjectName=project, ModelVersion="1")["Changes"]
    policies = [change["Policy"]["Policy"] for change in history]
    assert policies[0] == "TARGET_RECALL" and policies[-3:] == ["TARGET_RECALL", "MANUAL", "F1_OPTIMAL"]
    assert history[-3]["Policy"]["Confidence"] == 0.6
    assert history[0]["OldThreshold"] == 0.5 and history[-2]["NewThreshold"] == 0.75
    assert all(change["ChangedBy"] == server.access_key_id for change in history)
    assert all(a["NewThreshold"] == b["OldThreshold"] for a, b in itertools.pairwise(history))
    page = lv.list_threshold_history(ProjectName=project, ModelVersion="1", MaxResults=2)
    rest = lv.list_threshold_history(ProjectName=project, ModelVersion="1", NextToken=page["NextToken"])
    assert page["Changes"] + rest["Changes"] == history


def test_delete_model_cancels_training_and_project_waits_for_models(
    server: LiveServer, lv: Any, trained: dict[str, Any]
) -> None:
    project = trained["project"]
    second = lv.create_model(ProjectName=project, OutputConfig=OUTPUT, **FAST_TRAINING)["ModelMetadata"]
    assert second["ModelVersion"] == "2"
    assert [m["ModelVersion"] for m in lv.list_models(ProjectName=project)["Models"]] == ["2", "1"]
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while lv.describe_training_job(ProjectName=project, ModelVersion="2")["TrainingJob"]["State"] == "QUEUED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    lv.delete_model(ProjectName=project, ModelVersion="2")
    deadline = time.monotonic() + 30
    while True:
        try:
            status = lv.describe_model(ProjectName=project, ModelVersion="2")["ModelDescription"]["Status"]
        except ClientError as gone:
            assert gone.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert status == "DELETING" and time.monotonic() < deadline
        time.sleep(0.2)
    assert [m["ModelVersion"] for m in lv.list_models(ProjectName=project)["Models"]] == ["1"]
    assert not list(server.context.store.list(f"training-output/{project}/2-"))

    for dataset_type in ("train", "test"):
        lv.delete_dataset(ProjectName=project, DatasetType=dataset_type)
    with pytest.raises(ClientError) as refused:
        lv.delete_project(ProjectName=project)
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    assert "models" in refused.value.response["Error"]["Message"]
    key = lv.describe_model(ProjectName=project, ModelVersion="1")["ModelDescription"]["EvaluationResult"]["Key"]
    lv.delete_model(ProjectName=project, ModelVersion="1")
    assert server.context.store.exists(key), "the caller's EvaluationResult stays, as in Lookout for Vision"
    assert not list(server.context.store.list(f"training-output/{project}/1-")), "the service's objects go"
    lv.delete_project(ProjectName=project)

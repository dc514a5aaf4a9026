"""Issue 9's acceptance run: a hosted model with a policy (confidence below 0.7 or 10 % sampling) judges 50 images;
exactly the expected ones are routed; a reviewer completes them; the verdicts go into the train dataset; a new
model version trains on them; the statistics match what happened."""

import hashlib
import io
import json
import math
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from service.auth.roles import Role
from service.domain.review.routing import sample_value
from tests.api.test_hosting import TinyModel
from tests.api.test_models_training import wait_for_status as wait_for_training
from tests.helpers.live_server import LiveServer
from tests.hosting.models import encode, host_trained_model, normal_pixels, wait_for_status
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project
from tests.review.conftest import key_client, reviewer_client
from tests.review.test_routing import sampling_seed

DETECTIONS = 50
PATCH_SIDES = (0, 0, 3, 5, 7, 9, 12, 16)


def line_images(tiny: TinyModel) -> list[tuple[bytes, np.ndarray | None]]:
    """(PNG, defect mask or None): normal parts and parts with painted defects of many sizes, all distinct."""
    out = []
    for index in range(DETECTIONS):
        pixels = normal_pixels(tiny[1][index % len(tiny[1])]).copy()
        pixels[63, 63] = [index, 255 - index, 11]
        side = PATCH_SIDES[index % len(PATCH_SIDES)]
        mask = None
        if side:
            top, left = 10 + index % 20, 30 - index % 17
            pixels[top : top + side, left : left + side] = [255, 0, 255]
            mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
            mask[top : top + side, left : left + side] = 255
        out.append((encode(pixels), mask))
    return out


def png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")
    return buffer.getvalue()


def wilson(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return centre - spread, centre + spread


@pytest.mark.timeout(600)
def test_route_review_learn_and_measure(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory, tiny_model: TinyModel
) -> None:
    project = f"done-{server.settings.resolved_home.name[-8:]}"
    seed_project(server.context, project, tmp_path_factory.mktemp("done"), train=(10, 0), test=(10, 10))
    lv = server.boto3_client()
    host_trained_model(server, lv, project, tiny_model[0])
    lv.put_review_policy(ProjectName=project, ConfidenceBelow=0.7, SamplingPercent=10)
    seed = sampling_seed(server, project)

    truth: dict[str, np.ndarray | None] = {}
    model_says: dict[str, bool] = {}
    sampled: set[str] = set()
    counts = {"SAMPLED": 0, "LOW_CONFIDENCE": 0, "NOT_MATCHED": 0}
    for body, mask in line_images(tiny_model):
        reply = lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=body, ContentType="image/png")
        confidence = reply["DetectAnomalyResult"]["Confidence"]
        is_sampled = sample_value(seed, hashlib.sha256(body).hexdigest()) < 0.10
        expected = "SAMPLED" if is_sampled else "LOW_CONFIDENCE" if confidence < 0.7 else "NOT_MATCHED"
        review = reply["HumanReview"]
        assert (review["Routed"], review["Reason"]) == (expected != "NOT_MATCHED", expected), (confidence, review)
        counts[expected] += 1
        if review["Routed"]:
            truth[review["TaskId"]] = mask
            model_says[review["TaskId"]] = reply["DetectAnomalyResult"]["IsAnomalous"]
            if is_sampled:
                sampled.add(review["TaskId"])
    assert all(counts.values()), f"the run needs every kind of outcome: {counts}"

    reviewer = reviewer_client(server, "line reviewer")
    inference = key_client(server, Role.INFERENCE, "line camera")
    with pytest.raises(ClientError) as refused:
        inference.claim_review_task(ProjectName=project)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    for forbidden in (
        lambda: reviewer.create_model(ProjectName=project, OutputConfig=OUTPUT, **FAST_TRAINING),
        lambda: reviewer.delete_model(ProjectName=project, ModelVersion="1"),
    ):
        with pytest.raises(ClientError) as refused:
            forbidden()
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    while (task := reviewer.claim_review_task(ProjectName=project).get("ReviewTask")) is not None:
        described = reviewer.describe_review_task(ProjectName=project, TaskId=task["TaskId"])["ReviewTask"]
        assert Image.open(io.BytesIO(described["Heatmap"])).size == (64, 64)
        mask = truth[task["TaskId"]]
        options: dict[str, Any] = {"Verdict": "normal"} if mask is None else {"Verdict": "anomaly", "Mask": png(mask)}
        reviewer.complete_review_task(ProjectName=project, TaskId=task["TaskId"], **options)
    completed = lv.list_review_tasks(ProjectName=project, Status="COMPLETED")["ReviewTasks"]
    assert sorted(task["TaskId"] for task in completed) == sorted(truth)

    added = lv.add_reviews_to_dataset(ProjectName=project, DatasetType="train", Filter={"ModelVersion": "1"})
    assert sorted(added["AddedTaskIds"]) == sorted(truth) and added["AlreadyAddedTaskIds"] == []
    normal_reviewed = sum(mask is None for mask in truth.values())
    assert added["ImageStats"]["Normal"] == 10 + normal_reviewed
    again = lv.add_reviews_to_dataset(ProjectName=project, DatasetType="train", TaskIds=sorted(truth))
    assert again["AddedTaskIds"] == [] and sorted(again["AlreadyAddedTaskIds"]) == sorted(truth)
    entries = lv.list_dataset_entries(ProjectName=project, DatasetType="train")["DatasetEntries"]
    lines = [json.loads(entry) for entry in entries]
    reviewed = [line for line in lines if "review-task-id" in line.get("anomaly-label-metadata", {})]
    assert sorted(line["anomaly-label-metadata"]["review-task-id"] for line in reviewed) == sorted(truth)
    assert all(line["anomaly-label-metadata"]["human-annotated"] == "yes" for line in reviewed)
    assert sum("anomaly-mask-ref" in line for line in reviewed) == len(truth) - normal_reviewed

    lv.stop_model(ProjectName=project, ModelVersion="1")
    wait_for_status(lv, project, "1", "TRAINED")
    assert (
        lv.create_model(ProjectName=project, OutputConfig=OUTPUT, **FAST_TRAINING)["ModelMetadata"]["ModelVersion"]
        == "2"
    )
    description = wait_for_training(lv, project, "2")
    assert description["Status"] == "TRAINED", description["StatusMessage"]
    result = json.loads(server.context.store.get(description["EvaluationResult"]["Key"]))
    assert result["EvaluationDetails"]["NumberOfTrainingImages"] == 10 + normal_reviewed

    stats = lv.describe_review_statistics(ProjectName=project, ModelVersion="1")
    assert (stats["Routed"], stats["Completed"], stats["Pending"], stats["QueueDepth"]) == (
        len(truth),
        len(truth),
        0,
        0,
    )
    assert stats["RoutedByReason"]["SAMPLED"] == counts["SAMPLED"]
    assert stats["RoutedByReason"]["LOW_CONFIDENCE"] == counts["LOW_CONFIDENCE"]
    human = {task_id: mask is not None for task_id, mask in truth.items()}
    assert stats["FalsePositives"] == sum(model_says[t] and not human[t] for t in truth)
    assert stats["FalseNegatives"] == sum(human[t] and not model_says[t] for t in truth)
    assert stats["AgreementRate"] == pytest.approx(sum(model_says[t] == human[t] for t in truth) / len(truth))
    assert stats["Audits"]["Completed"] == len(sampled)
    true_positives = sum(model_says[t] and human[t] for t in sampled)
    flagged = sum(model_says[t] for t in sampled)
    if flagged:
        precision = stats["Precision"]
        assert precision["Estimate"] == pytest.approx(true_positives / flagged)
        assert (precision["Low"], precision["High"]) == pytest.approx(wilson(true_positives, flagged))
    actual = sum(human[t] for t in sampled)
    if actual:
        recall = stats["Recall"]
        assert recall["Estimate"] == pytest.approx(true_positives / actual)
        assert (recall["Low"], recall["High"]) == pytest.approx(wilson(true_positives, actual))
    assert stats["Reviewers"] == [reviewer._request_signer._credentials.access_key]
    assert stats["MedianTimeToReviewSeconds"] > 0 and stats["MedianReviewSeconds"] >= 0

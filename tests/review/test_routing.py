"""Routing inside DetectAnomalies: the policy's conditions, caps and pause, the HumanReview member of the reply."""

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import numpy as np
from PIL import Image
from sqlmodel import col, select

from sdk.boto import data_path
from service.db.engine import transaction
from service.db.models import Project, ReviewAction, ReviewPolicy, ReviewTask
from service.domain.detections import purge_expired_images
from service.domain.review import media
from service.domain.review.media import purge_finished_tasks
from service.domain.review.routing import sample_value
from tests.api.test_hosting import TinyModel
from tests.helpers.live_server import LiveServer
from tests.hosting.models import host_trained_model, wait_for_status
from tests.review.conftest import detect, images, reviewer_client
from tests.review.seed import png


def test_without_a_policy_the_reply_is_unchanged(lv: Any, hosted: str, tiny_model: TinyModel) -> None:
    reply = detect(lv, hosted, images(tiny_model, 1)[0])
    assert "HumanReview" not in reply and "DetectAnomalyResult" in reply


def test_low_confidence_and_sampled_detections_are_routed_exactly(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel
) -> None:
    policy = lv.put_review_policy(ProjectName=hosted, ConfidenceBelow=0.8, SamplingPercent=30)["ReviewPolicy"]
    assert policy["ConfidenceBelow"] == 0.8 and policy["SamplingPercent"] == 30
    seed = sampling_seed(server, hosted)
    for body in images(tiny_model, 12):
        reply = detect(lv, hosted, body)
        result, review = reply["DetectAnomalyResult"], reply["HumanReview"]
        sampled = sample_value(seed, hashlib.sha256(body).hexdigest()) < 0.30
        expected = "SAMPLED" if sampled else "LOW_CONFIDENCE" if result["Confidence"] < 0.8 else "NOT_MATCHED"
        assert review["Reason"] == expected
        assert review["Routed"] is (expected != "NOT_MATCHED")
        assert ("TaskId" in review) is review["Routed"]


def sampling_seed(server: LiveServer, project: str) -> str:
    """The policy's sampling seed, read from the database (the API does not show it)."""
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        return session.exec(select(ReviewPolicy.sampling_seed).where(ReviewPolicy.project_id == project_id)).one()


def test_caps_pause_band_and_all_anomalous(lv: Any, hosted: str, tiny_model: TinyModel) -> None:
    bodies = images(tiny_model, 6)
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100, HourlyCap=2)
    reasons = [detect(lv, hosted, body)["HumanReview"]["Reason"] for body in bodies[:4]]
    assert reasons == ["SAMPLED", "SAMPLED", "HOURLY_CAP_REACHED", "HOURLY_CAP_REACHED"]
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100, DailyCap=2)
    assert detect(lv, hosted, bodies[4])["HumanReview"]["Reason"] == "DAILY_CAP_REACHED", "the day counted them"
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100, Paused=True)
    assert detect(lv, hosted, bodies[4])["HumanReview"] == {"Routed": False, "Reason": "PAUSED"}

    lv.put_review_policy(ProjectName=hosted, ScoreBand={"Low": 0.0, "High": 0.5})
    lv.put_review_policy(ProjectName=hosted, ModelVersion="1", AllAnomalous=True)
    normal, defective = bodies[0], bodies[2]
    assert detect(lv, hosted, normal)["HumanReview"]["Reason"] == "NOT_MATCHED", "the version's policy wins"
    anomalous = detect(lv, hosted, defective)
    assert anomalous["DetectAnomalyResult"]["IsAnomalous"] is True
    assert anomalous["HumanReview"]["Reason"] == "ANOMALOUS"
    effective = lv.describe_review_policy(ProjectName=hosted, ModelVersion="1")["ReviewPolicy"]
    assert effective["ModelVersion"] == "1" and effective["AllAnomalous"] is True
    project_wide = lv.describe_review_policy(ProjectName=hosted)["ReviewPolicy"]
    assert "ModelVersion" not in project_wide and project_wide["ScoreBand"] == {"Low": 0.0, "High": 0.5}
    listed = lv.list_review_tasks(ProjectName=hosted)["ReviewTasks"]
    assert [task["Reason"] for task in listed] == ["SAMPLED", "SAMPLED", "ANOMALOUS"]


def test_a_routed_detection_keeps_its_image_past_the_detections_retention(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel
) -> None:
    body = images(tiny_model, 1)[0]
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100)
    task_id = detect(lv, hosted, body)["HumanReview"]["TaskId"]
    lv.list_detections(ProjectName=hosted)  # waits until the log is written
    context = server.context
    later = datetime.now(UTC) + timedelta(days=60)
    purge_expired_images(context.engine, context.store, retention_days=30, now=later)
    purge_finished_tasks(context.engine, context.store, retention_days=30, now=later)  # the task is still open
    assert "Image" not in lv.list_detections(ProjectName=hosted)["Detections"][0]
    task = lv.describe_review_task(ProjectName=hosted, TaskId=task_id)["ReviewTask"]
    assert task["Image"] == body and task["ImageStored"] is True
    assert Image.open(io.BytesIO(task["Heatmap"])).size == (64, 64)

    reviewer = reviewer_client(server)
    reviewer.claim_review_task(ProjectName=hosted, TaskId=task_id)
    reviewer.complete_review_task(ProjectName=hosted, TaskId=task_id, Verdict="normal")
    purge_finished_tasks(context.engine, context.store, retention_days=30, now=datetime.now(UTC))
    assert lv.describe_review_task(ProjectName=hosted, TaskId=task_id)["ReviewTask"]["Image"] == body
    assert purge_finished_tasks(context.engine, context.store, retention_days=30, now=later) >= 3
    task = lv.describe_review_task(ProjectName=hosted, TaskId=task_id)["ReviewTask"]
    assert task["ImageStored"] is False and "Image" not in task and task["HumanVerdict"] == "normal"


def test_a_backlog_of_finished_tasks_is_purged_in_passes(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel, monkeypatch: Any
) -> None:
    monkeypatch.setattr(media, "_TASKS_PER_PASS", 2)
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100)
    task_ids = [detect(lv, hosted, body)["HumanReview"]["TaskId"] for body in images(tiny_model, 3)]
    reviewer = reviewer_client(server)
    for task_id in task_ids:
        reviewer.claim_review_task(ProjectName=hosted, TaskId=task_id)
        reviewer.complete_review_task(ProjectName=hosted, TaskId=task_id, Verdict="normal")
    context = server.context
    with transaction(context.engine) as session:
        rows = session.exec(select(ReviewTask).where(col(ReviewTask.id).in_([int(task) for task in task_ids])))
        keys = [key for task in rows for key in (task.image_key, task.anomaly_map_key) if key]
    assert len(keys) == 6 and all(context.store.exists(key) for key in keys)
    later = datetime.now(UTC) + timedelta(days=60)
    assert media.purge_finished_tasks(context.engine, context.store, retention_days=30, now=later) >= 6
    assert not any(context.store.exists(key) for key in keys), "every pass deleted its tasks' objects"
    for task_id in task_ids:
        assert lv.describe_review_task(ProjectName=hosted, TaskId=task_id)["ReviewTask"]["ImageStored"] is False


def test_deleting_a_model_deletes_its_review_tasks_objects(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel
) -> None:
    lv.create_project(ProjectName=project_name)
    host_trained_model(server, lv, project_name, tiny_model[0])
    lv.put_review_policy(ProjectName=project_name, SamplingPercent=100)
    task_ids = [detect(lv, project_name, body)["HumanReview"]["TaskId"] for body in images(tiny_model, 2)]
    reviewer = reviewer_client(server)
    reviewer.claim_review_task(ProjectName=project_name, TaskId=task_ids[0])
    width, height = Image.open(io.BytesIO(images(tiny_model, 1)[0])).size
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[2:6, 2:6] = 255
    reviewer.complete_review_task(ProjectName=project_name, TaskId=task_ids[0], Verdict="anomaly", Mask=png(mask))
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project_name)).one()
        tasks = session.exec(select(ReviewTask).where(ReviewTask.project_id == project_id)).all()
        actions = session.exec(select(ReviewAction.mask_key).where(ReviewAction.project_id == project_id)).all()
    keys = [key for task in tasks for key in (task.image_key, task.anomaly_map_key, task.mask_key) if key]
    keys += [key for key in actions if key]
    assert len(tasks) == 2 and len(keys) >= 5, "two images and maps, and the reviewer's mask"
    assert all(server.context.store.exists(key) for key in keys)

    lv.stop_model(ProjectName=project_name, ModelVersion="1")
    wait_for_status(lv, project_name, "1", "TRAINED")
    lv.delete_model(ProjectName=project_name, ModelVersion="1")
    assert not any(server.context.store.exists(key) for key in keys)
    assert lv.list_review_tasks(ProjectName=project_name)["ReviewTasks"] == []


def test_boto3_on_the_original_aws_model_still_parses_the_reply(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel, tmp_path: Path
) -> None:
    """AWS's model of DetectAnomalies has no HumanReview member: botocore skips what it does not know."""
    model = json.loads((data_path() / "lookoutvision" / "2020-11-20" / "service-2.json").read_text())
    del model["shapes"]["DetectAnomaliesResponse"]["members"]["HumanReview"]
    folder = tmp_path / "lookoutvision" / "2020-11-20"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    aws = boto3.Session(botocore_session=session).client(
        "lookoutvision",
        endpoint_url=server.url,
        region_name=server.settings.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
    )
    assert "HumanReview" not in aws.meta.service_model.operation_model("DetectAnomalies").output_shape.members
    lv.put_review_policy(ProjectName=hosted, SamplingPercent=100)
    body = images(tiny_model, 1)[0]
    reply = aws.detect_anomalies(ProjectName=hosted, ModelVersion="1", Body=body, ContentType="image/png")
    assert "HumanReview" not in reply and reply["DetectAnomalyResult"]["Source"] == {"Type": "direct"}
    assert (
        lv.detect_anomalies(ProjectName=hosted, ModelVersion="1", Body=body, ContentType="image/png")["HumanReview"][
            "Routed"
        ]
        is True
    )

"""Shadow mode through boto3 against a live server: two hosted versions, one in the shadow of the other, both results
recorded per detection, the comparison, promotion under concurrent traffic with zero errors, roll back, stop, and the
refusals that change nothing."""

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Detection, Model, Project, ShadowModel, ShadowResult
from service.domain.model_deletion import cascaded_object_keys
from service.domain.shadow_retention import purge_expired_shadow_objects
from service.engine.data import ImageRecord
from tests.helpers.live_server import LiveServer
from tests.hosting.models import (
    add_trained_model,
    defective_pixels,
    encode,
    normal_pixels,
    tiny_candidate,
    tiny_model,
    wait_for_status,
)

__all__ = ["tiny_candidate", "tiny_model"]

TinyModel = tuple[Path, list[ImageRecord]]


def error_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def images(model: TinyModel, count: int) -> list[bytes]:
    """`count` PNGs, alternately normal and with a painted defect, over the tiny model's training images."""
    records = model[1]
    return [
        encode(normal_pixels(records[i % len(records)]) if i % 2 == 0 else defective_pixels(records[i % len(records)]))
        for i in range(count)
    ]


def host(lv: Any, project: str, version: str) -> None:
    lv.start_model(ProjectName=project, ModelVersion=version, MinInferenceUnits=1)
    wait_for_status(lv, project, version, "HOSTED")


@pytest.fixture
def two_hosted(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel, tiny_candidate: TinyModel
) -> Iterator[str]:
    """A project with versions 1 and 2 (another model) both hosted; hosting stopped afterwards."""
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, tiny_model[0], version=1)
    add_trained_model(server, project_name, tiny_candidate[0], version=2)
    host(lv, project_name, "1")
    host(lv, project_name, "2")
    yield project_name
    try:
        lv.stop_shadow_model(ProjectName=project_name, ModelVersion="1")
    except ClientError:
        pass
    for version in ("1", "2"):
        status = lv.describe_model(ProjectName=project_name, ModelVersion=version)["ModelDescription"]["Status"]
        if status == "HOSTED":
            lv.stop_model(ProjectName=project_name, ModelVersion=version)
    for version in ("1", "2"):
        wait_for_status(lv, project_name, version, "TRAINED")


def detect(lv: Any, project: str, body: bytes, version: str = "1") -> dict[str, Any]:
    return lv.detect_anomalies(ProjectName=project, ModelVersion=version, Body=body, ContentType="image/png")


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def shadow_rows(server: LiveServer, project: str) -> list[ShadowResult]:
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        return list(
            session.exec(
                select(ShadowResult)
                .join(ShadowModel, col(ShadowModel.id) == col(ShadowResult.shadow_id))
                .where(ShadowModel.project_id == project_id)
                .order_by(col(ShadowResult.id))
            )
        )


def model_ids(server: LiveServer, project: str) -> dict[int, int]:
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        return {
            model.version: model.id
            for model in session.exec(select(Model).where(Model.project_id == project_id))
            if model.id is not None
        }


def logged_detections(server: LiveServer, lv: Any, project: str, model_id: int) -> list[Detection]:
    """The detections log of a model, oldest first (ListDetections first, so that every record is written)."""
    lv.list_detections(ProjectName=project, MaxResults=1)
    with transaction(server.context.engine) as session:
        return list(session.exec(select(Detection).where(Detection.model_id == model_id).order_by(col(Detection.id))))


def test_a_shadow_sees_every_detection_and_promotion_swaps_without_errors(
    server: LiveServer, lv: Any, two_hosted: str, tiny_model: TinyModel
) -> None:
    project = two_hosted
    started = lv.start_shadow_model(ProjectName=project, ModelVersion="2", LiveModelVersion="1")["ShadowModel"]
    assert (started["LiveModelVersion"], started["ShadowModelVersion"], started["Status"]) == ("1", "2", "ACTIVE")
    assert started["SamplePercent"] == 100.0

    bodies = images(tiny_model, 40)
    answers = [detect(lv, project, body)["DetectAnomalyResult"] for body in bodies]
    comparison = lv.describe_shadow_comparison(ProjectName=project, ModelVersion="1", MaxDisagreements=100)

    ids = model_ids(server, project)
    rows = shadow_rows(server, project)
    logged = logged_detections(server, lv, project, ids[1])
    assert len(rows) == len(logged) == 40
    by_time = {row.detected_at: row for row in rows}
    for detection, answer in zip(logged, answers, strict=True):
        row = by_time[detection.detected_at]
        assert (row.live_model_id, row.shadow_model_id) == (ids[1], ids[2])
        assert row.live_is_anomalous == detection.is_anomalous == answer["IsAnomalous"]
        assert row.live_score == detection.score and row.live_confidence == pytest.approx(answer["Confidence"])
        assert row.live_latency_ms == detection.latency_ms and row.shadow_latency_ms > 0
        assert row.shadow_is_anomalous == (row.shadow_score >= row.shadow_threshold)
        assert row.agrees == (row.live_is_anomalous == row.shadow_is_anomalous)
        assert (row.image_key is None) == row.agrees
    assert any(row.live_score != row.shadow_score for row in rows), "the two models should score differently"

    agreeing = sum(row.agrees for row in rows)
    assert comparison["Compared"] == 40 and comparison["Agreeing"] == agreeing
    assert comparison["AgreementRate"] == pytest.approx(agreeing / 40)
    assert comparison["Disagreements"] == {
        "LiveAnomalous": sum(row.live_is_anomalous and not row.shadow_is_anomalous for row in rows),
        "ShadowAnomalous": sum(row.shadow_is_anomalous and not row.live_is_anomalous for row in rows),
    }
    expected_correlation = np.corrcoef([row.live_score for row in rows], [row.shadow_score for row in rows])[0, 1]
    assert comparison["ScoreCorrelation"] == pytest.approx(expected_correlation)
    assert comparison["Live"]["ModelVersion"] == "1" and comparison["Shadow"]["ModelVersion"] == "2"
    assert comparison["Live"]["Anomalous"] == sum(row.live_is_anomalous for row in rows)
    assert comparison["Shadow"]["Anomalous"] == sum(row.shadow_is_anomalous for row in rows)
    assert comparison["Live"]["LatencyP50Millis"] == pytest.approx(np.percentile([r.live_latency_ms for r in rows], 50))
    assert comparison["Shadow"]["LatencyP99Millis"] == pytest.approx(
        np.percentile([r.shadow_latency_ms for r in rows], 99)
    )
    samples = comparison["DisagreementSamples"]
    assert len(samples) == 40 - agreeing
    for sample in samples:
        assert server.context.store.get(sample["Image"]["Key"]) in bodies

    errors: list[str] = []
    answered = {"count": 0}
    stop = threading.Event()

    def traffic(body: bytes) -> None:
        client = server.boto3_client()
        while not stop.is_set():
            try:
                detect(client, project, body)
                answered["count"] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is what this test counts
                errors.append(repr(exc))

    threads = [threading.Thread(target=traffic, args=(bodies[i],)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: answered["count"] >= 5)
        promoted = lv.promote_shadow_model(ProjectName=project, ModelVersion="1")["ShadowModel"]
        during = answered["count"]
        wait_until(lambda: answered["count"] >= during + 5)
        rolled_back = lv.promote_shadow_model(ProjectName=project, ModelVersion="2")["ShadowModel"]
        during = answered["count"]
        wait_until(lambda: answered["count"] >= during + 5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert (promoted["LiveModelVersion"], promoted["ShadowModelVersion"], promoted["Promotions"]) == ("2", "1", 1)
    assert (rolled_back["LiveModelVersion"], rolled_back["ShadowModelVersion"]) == ("1", "2")
    assert rolled_back["Promotions"] == 2
    assert logged_detections(server, lv, project, ids[2]), (
        "while promoted, model 2 answered requests addressed to model 1"
    )
    for version in ("1", "2"):
        assert lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]["Status"] == "HOSTED"

    stopped = lv.stop_shadow_model(ProjectName=project, ModelVersion="1")
    assert stopped["ShadowModel"]["Status"] == "STOPPED" and stopped["ShadowModelStatus"] == "STOPPING_HOSTING"
    wait_for_status(lv, project, "2", "TRAINED")
    assert detect(lv, project, bodies[0])["DetectAnomalyResult"]["IsAnomalous"] is False
    after = lv.describe_shadow_comparison(ProjectName=project, ModelVersion="2")
    assert after["ShadowModel"]["Status"] == "STOPPED" and after["Compared"] >= 40


def set_threshold(server: LiveServer, project: str, version: int, value: float) -> None:
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        model = session.exec(select(Model).where(Model.project_id == project_id, Model.version == version)).one()
        model.image_threshold = value
        session.add(model)


def pairs_of(server: LiveServer, project: str) -> list[ShadowModel]:
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        return list(session.exec(select(ShadowModel).where(ShadowModel.project_id == project_id)))


def test_bad_requests_get_aws_errors_and_change_nothing(
    server: LiveServer, lv: Any, two_hosted: str, tiny_model: TinyModel
) -> None:
    project = two_hosted
    add_trained_model(server, project, tiny_model[0], version=3)
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        untrained = session.exec(select(Model).where(Model.project_id == project_id, Model.version == 3)).one()
        untrained.status = "TRAINING"
        session.add(untrained)
    lv.create_project(ProjectName=project + "-other")
    refused = [
        ({"ModelVersion": "1", "LiveModelVersion": "1"}, "ValidationException", "cannot run in its own shadow"),
        (
            {"ModelVersion": "2", "LiveModelVersion": "1", "LiveProjectName": project + "-other"},
            "ValidationException",
            "belongs to another project",
        ),
        ({"ModelVersion": "3", "LiveModelVersion": "1"}, "ConflictException", "is TRAINING; only a HOSTED model"),
        ({"ModelVersion": "2", "LiveModelVersion": "9"}, "ResourceNotFoundException", "Model 9 of project"),
        ({"ModelVersion": "2", "LiveModelVersion": "1", "SamplePercent": 0}, "ValidationException", "SamplePercent"),
    ]
    for params, code, message in refused:
        with pytest.raises(ClientError) as error:
            lv.start_shadow_model(ProjectName=project, **params)
        assert error_of(error)[0] == code and message in error_of(error)[1], (params, error_of(error))
    for operation in (lv.promote_shadow_model, lv.stop_shadow_model, lv.describe_shadow_comparison):
        with pytest.raises(ClientError) as error:
            operation(ProjectName=project, ModelVersion="1")
        assert error_of(error)[0] == "ResourceNotFoundException", error_of(error)
    assert "has no shadow model running" in error_of(error)[1] or "never run in a shadow pair" in error_of(error)[1]
    assert pairs_of(server, project) == []

    lv.start_shadow_model(ProjectName=project, ModelVersion="2", LiveModelVersion="1", SamplePercent=50)
    with pytest.raises(ClientError) as twice:
        lv.start_shadow_model(ProjectName=project, ModelVersion="1", LiveModelVersion="2")
    assert error_of(twice)[0] == "ConflictException" and "already runs model 2" in error_of(twice)[1]
    with pytest.raises(ClientError) as stop:
        lv.stop_model(ProjectName=project, ModelVersion="1")
    assert error_of(stop)[0] == "ConflictException" and "StopShadowModel" in error_of(stop)[1]
    (pair,) = pairs_of(server, project)
    assert (pair.status, pair.sample_percent, pair.promotions) == ("ACTIVE", 50.0, 0)
    for version in ("1", "2"):
        assert lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]["Status"] == "HOSTED"


def disagreeing_shadow(server: LiveServer, lv: Any, project: str, tiny: TinyModel) -> tuple[list[bytes], list[bool]]:
    """Version 2 in the shadow of 1 at a threshold that calls everything anomalous, and six detections, at least one
    of them a disagreement; returns the images and the live verdicts."""
    set_threshold(server, project, 2, 1e-6)
    lv.start_shadow_model(ProjectName=project, ModelVersion="2", LiveModelVersion="1")
    bodies = images(tiny, 6)
    verdicts = [detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] for body in bodies]
    assert verdicts.count(False) >= 1
    return bodies, verdicts


def test_disagreements_go_to_review_and_reviews_count_each_models_mistakes(
    server: LiveServer, lv: Any, two_hosted: str, tiny_model: TinyModel
) -> None:
    project = two_hosted
    bodies, verdicts = disagreeing_shadow(server, lv, project, tiny_model)
    normal = verdicts.count(False)

    sent = lv.send_shadow_disagreements_to_review(ProjectName=project, ModelVersion="2")
    assert len(sent["TaskIds"]) == normal and sent["AlreadyInReview"] == 0
    again = lv.send_shadow_disagreements_to_review(ProjectName=project, ModelVersion="2")
    assert again["TaskIds"] == [] and again["AlreadyInReview"] == normal

    tasks = lv.list_review_tasks(ProjectName=project, Reason="SHADOW_DISAGREEMENT")["ReviewTasks"]
    assert sorted(task["TaskId"] for task in tasks) == sorted(sent["TaskIds"])
    for task_id in sent["TaskIds"]:
        lv.claim_review_task(ProjectName=project, TaskId=task_id)
        described = lv.describe_review_task(ProjectName=project, TaskId=task_id)["ReviewTask"]
        assert described["IsAnomalous"] is False and described["Image"] in bodies
        lv.complete_review_task(ProjectName=project, TaskId=task_id, Verdict="normal")

    comparison = lv.describe_shadow_comparison(ProjectName=project, ModelVersion="1")
    assert comparison["Compared"] == 6 and comparison["Disagreements"] == {
        "LiveAnomalous": 0,
        "ShadowAnomalous": normal,
    }
    assert comparison["Reviewed"] == normal
    assert (comparison["Live"]["FalsePositives"], comparison["Live"]["FalseNegatives"]) == (0, 0)
    assert (comparison["Shadow"]["FalsePositives"], comparison["Shadow"]["FalseNegatives"]) == (normal, 0)
    assert {sample["ReviewTaskId"] for sample in comparison["DisagreementSamples"]} == set(sent["TaskIds"])


def test_disagreement_objects_go_with_the_detections_retention_and_review_copies_stay(
    server: LiveServer, lv: Any, two_hosted: str, tiny_model: TinyModel
) -> None:
    project = two_hosted
    bodies, _ = disagreeing_shadow(server, lv, project, tiny_model)
    sent = lv.send_shadow_disagreements_to_review(ProjectName=project, ModelVersion="2")
    disagreements = [row for row in shadow_rows(server, project) if not row.agrees]
    keys = [key for row in disagreements for key in (row.image_key, row.mask_key, row.anomaly_map_key) if key]
    assert disagreements and len(keys) >= len(disagreements)
    store = server.context.store
    with transaction(server.context.engine) as session:
        candidate = session.exec(select(Model).where(Model.id == disagreements[0].shadow_model_id)).one()
        assert set(keys) <= set(cascaded_object_keys(session, model=candidate)), "deleting the candidate takes them"

    purge_expired_shadow_objects(server.context.engine, store, retention_days=30)
    assert all(store.exists(key) for key in keys), "inside the retention nothing goes"

    later = datetime.now(UTC) + timedelta(days=60)
    purged = purge_expired_shadow_objects(server.context.engine, store, retention_days=30, now=later)
    assert purged >= len(keys), "the server's earlier tests' disagreements go too"
    assert not any(store.exists(key) for key in keys)
    after = [row for row in shadow_rows(server, project) if not row.agrees]
    assert [row.id for row in after] == [row.id for row in disagreements], "the rows and verdicts stay"
    assert all(row.image_key is None and row.mask_key is None and row.anomaly_map_key is None for row in after)
    for task_id in sent["TaskIds"]:
        assert lv.describe_review_task(ProjectName=project, TaskId=task_id)["ReviewTask"]["Image"] in bodies
    comparison = lv.describe_shadow_comparison(ProjectName=project, ModelVersion="1")
    assert comparison["Compared"] == 6


OTHER_REPLICA = """
import sys
from sqlmodel import select
from service.db.engine import build_engine, transaction
from service.db.models import ShadowModel
url, action, project_id, live_id, shadow_id = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
engine = build_engine(url)
with transaction(engine) as session:
    if action == "start":
        session.add(ShadowModel(project_id=project_id, active_project_id=project_id, live_model_id=live_id,
                                shadow_model_id=shadow_id, status="ACTIVE"))
    else:
        pair = session.exec(select(ShadowModel).where(ShadowModel.project_id == project_id)).one()
        pair.status, pair.active_project_id = "STOPPED", None
        session.add(pair)
engine.dispose()
"""


def other_replica(server: LiveServer, action: str, project_id: int, live_id: int, shadow_id: int) -> None:
    """What another API process's StartShadowModel / StopShadowModel commits, from another process: a second engine
    on a SQLite file in this process would drop the live server's file locks when it closes."""
    arguments = [server.settings.resolved_database_url, action, str(project_id), str(live_id), str(shadow_id)]
    subprocess.run([sys.executable, "-c", OTHER_REPLICA, *arguments], check=True, timeout=120)


def test_a_pair_started_and_stopped_by_another_replica_reaches_this_one_within_the_ttl(
    server: LiveServer, lv: Any, two_hosted: str, tiny_model: TinyModel
) -> None:
    """Another API process's StartShadowModel and StopShadowModel are rows in the shared database; this process
    follows them within LV_HOSTING_SETTINGS_TTL_S, without being told."""
    project, ttl = two_hosted, server.settings.hosting_settings_ttl_s
    ids = model_ids(server, project)
    body = images(tiny_model, 1)[0]
    detect(lv, project, body)  # the target is cached here before the other replica acts
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
    assert project_id is not None
    other_replica(server, "start", project_id, ids[1], ids[2])
    time.sleep(ttl + 0.2)
    for _ in range(3):
        detect(lv, project, body)
    assert lv.describe_shadow_comparison(ProjectName=project, ModelVersion="1")["Compared"] == 3

    other_replica(server, "stop", project_id, ids[1], ids[2])
    time.sleep(ttl + 0.2)
    detect(lv, project, body)
    assert lv.describe_shadow_comparison(ProjectName=project, ModelVersion="1")["Compared"] == 3

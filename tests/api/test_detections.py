"""The detections log: every DetectAnomalies call recorded, listed newest first with filters, images kept for the
retention period."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.domain.detections import purge_expired_images
from service.engine.data import ImageRecord
from tests.api.test_hosting import TinyModel
from tests.helpers.live_server import LiveServer
from tests.hosting.models import (
    defective_pixels,
    encode,
    host_trained_model,
    normal_pixels,
    tiny_model,
    wait_for_status,
)

__all__ = ["tiny_model"]


@pytest.fixture
def logged(server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel) -> tuple[str, list[bytes]]:
    """A hosted model that has judged two normal images and then one defective image."""
    lv.create_project(ProjectName=project_name)
    host_trained_model(server, lv, project_name, tiny_model[0])
    records: list[ImageRecord] = tiny_model[1]
    bodies = [
        encode(normal_pixels(records[0])),
        encode(normal_pixels(records[1])),
        encode(defective_pixels(records[2])),
    ]
    for body in bodies:
        lv.detect_anomalies(ProjectName=project_name, ModelVersion="1", Body=body, ContentType="image/png")
    yield project_name, bodies
    lv.stop_model(ProjectName=project_name, ModelVersion="1")
    wait_for_status(lv, project_name, "1", "TRAINED")


def test_every_detection_is_recorded_with_its_verdict_and_image(
    server: LiveServer, lv: Any, logged: tuple[str, list[bytes]]
) -> None:
    project, bodies = logged
    detections = lv.list_detections(ProjectName=project)["Detections"]
    assert [item["IsAnomalous"] for item in detections] == [True, False, False]
    newest = detections[0]
    assert newest["ModelVersion"] == "1" and newest["Threshold"] == 0.5
    assert newest["Score"] >= 0.5 and 0.5 <= newest["Confidence"] <= 1 and newest["AnomalyArea"] > 0
    assert newest["LatencyMillis"] > 0 and newest["Caller"] == server.access_key_id
    assert (newest["ImageFormat"], newest["ImageWidth"], newest["ImageHeight"]) == ("png", 64, 64)
    stored = [server.context.store.get(item["Image"]["Key"]) for item in detections]
    assert stored == bodies[::-1]
    assert {item["Image"]["Bucket"] for item in detections} == {server.settings.storage_bucket}


def test_filters_narrow_the_log(lv: Any, logged: tuple[str, list[bytes]]) -> None:
    project, _ = logged

    def count(**filters: Any) -> int:
        return len(lv.list_detections(ProjectName=project, **filters)["Detections"])

    now = datetime.now(UTC)
    assert count(AnomalousOnly=True) == 1
    assert count(ModelVersion="1") == 3 and count(ModelVersion="2") == 0
    assert count(StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=10)) == 3
    assert count(StartTime=now + timedelta(minutes=10)) == 0
    assert count(EndTime=now - timedelta(minutes=10)) == 0


def test_the_log_pages_without_gaps_or_repeats(lv: Any, logged: tuple[str, list[bytes]]) -> None:
    project, _ = logged
    first = lv.list_detections(ProjectName=project, MaxResults=2)
    second = lv.list_detections(ProjectName=project, MaxResults=2, NextToken=first["NextToken"])
    assert len(first["Detections"]) == 2 and len(second["Detections"]) == 1 and "NextToken" not in second
    paged = [
        item["DetectionId"]
        for page in lv.get_paginator("list_detections").paginate(ProjectName=project, PaginationConfig={"PageSize": 1})
        for item in page["Detections"]
    ]
    everything = [item["DetectionId"] for item in lv.list_detections(ProjectName=project)["Detections"]]
    assert paged == everything and len(set(paged)) == 3


def test_images_past_the_retention_are_deleted_and_the_records_kept(
    server: LiveServer, lv: Any, logged: tuple[str, list[bytes]]
) -> None:
    project, _ = logged
    keys = [item["Image"]["Key"] for item in lv.list_detections(ProjectName=project)["Detections"]]
    context = server.context
    purge_expired_images(context.engine, context.store, retention_days=30, now=datetime.now(UTC))
    assert all(context.store.exists(key) for key in keys)
    later = datetime.now(UTC) + timedelta(days=31)
    purge_expired_images(context.engine, context.store, retention_days=30, now=later)
    assert not any(context.store.exists(key) for key in keys)
    detections = lv.list_detections(ProjectName=project)["Detections"]
    assert len(detections) == 3 and all("Image" not in item for item in detections)


def test_listing_an_unknown_project_is_not_found(lv: Any) -> None:
    with pytest.raises(ClientError) as error:
        lv.list_detections(ProjectName="no-such-project")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"

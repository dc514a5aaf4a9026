"""A hosted tiny model per test, reviewer keys, and helpers to send detections and read the queue."""

from collections.abc import Iterator
from typing import Any

import pytest

from service.auth.roles import Role
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


def key_client(server: LiveServer, role: Role, description: str) -> Any:
    """A boto3 client signed with a fresh access key of `role`."""
    pair = server.context.keys.create(role=role, description=description)
    return server.boto3_client(aws_access_key_id=pair.access_key_id, aws_secret_access_key=pair.secret_access_key)


def reviewer_client(server: LiveServer, description: str = "reviewer") -> Any:
    """A boto3 client signed with a fresh reviewer key (each key is one reviewer)."""
    pair = server.context.keys.create(role=Role.REVIEWER, description=description)
    return server.boto3_client(aws_access_key_id=pair.access_key_id, aws_secret_access_key=pair.secret_access_key)


@pytest.fixture
def hosted(server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel) -> Iterator[str]:
    """A project whose model 1 is hosted on one unit; stopped afterwards."""
    lv.create_project(ProjectName=project_name)
    host_trained_model(server, lv, project_name, tiny_model[0])
    yield project_name
    lv.stop_model(ProjectName=project_name, ModelVersion="1")
    wait_for_status(lv, project_name, "1", "TRAINED")


def images(tiny: TinyModel, count: int) -> list[bytes]:
    """`count` distinct PNGs: normal training images and, every third one, the same with a painted defect."""
    records = tiny[1]
    out = []
    for index in range(count):
        record = records[index % len(records)]
        pixels = defective_pixels(record) if index % 3 == 2 else normal_pixels(record).copy()
        pixels[0, 0] = [index % 256, index // 256, 7]  # keeps every image distinct
        out.append(encode(pixels))
    return out


def detect(lv: Any, project: str, body: bytes) -> dict[str, Any]:
    return lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=body, ContentType="image/png")


def error_code(error: Any) -> str:
    return error.value.response["Error"]["Code"]

"""DetectAnomalies without a database transaction per request: the hosted model's settings are cached, a local
StartModel, StopModel or threshold change applies to the next request, another replica's within the TTL; and the
Server-Timing header names the stages."""

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import event, update
from sqlmodel import col, select

from service.api.server_timing import DETECT_STAGES, parse_server_timing
from service.db.engine import transaction
from service.db.models import Model, Project
from tests.api.test_hosting import TinyModel
from tests.conftest import make_settings
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import (
    defective_pixels,
    encode,
    host_trained_model,
    tiny_model,
    wait_for_status,
)

__all__ = ["tiny_model"]

LONG_TTL_S, SHORT_TTL_S = 3600.0, 0.5


@pytest.fixture(scope="module")
def long_ttl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose cached settings never expire during the test: only invalidation can refresh them."""
    home = tmp_path_factory.mktemp("lv-long-ttl")
    with run_live_server(make_settings(home, hosting_settings_ttl_s=LONG_TTL_S)) as live:
        yield live


@pytest.fixture(scope="module")
def short_ttl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("lv-short-ttl")
    with run_live_server(make_settings(home, hosting_settings_ttl_s=SHORT_TTL_S)) as live:
        yield live


def host(server: LiveServer, project: str, folder: Path) -> Any:
    lv = server.boto3_client()
    lv.create_project(ProjectName=project)
    host_trained_model(server, lv, project, folder)
    return lv


def detect(lv: Any, project: str, body: bytes) -> dict[str, Any]:
    return lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=body, ContentType="image/png")


def set_threshold(engine: Any, project_name: str, value: float) -> None:
    """What UpdateModelThreshold commits: the model version's new threshold (here through `engine`)."""
    with transaction(engine) as session:
        project = session.exec(select(Project).where(Project.name == project_name)).one()
        session.execute(
            update(Model)
            .where(col(Model.project_id) == project.id, col(Model.version) == 1)
            .values(image_threshold=value)
        )


OTHER_REPLICA = """
import sys
from tests.api.test_detect_caches import set_threshold
from service.db.engine import build_engine
engine = build_engine(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    set_threshold(engine, sys.argv[2], float(line))
    print("done", flush=True)
engine.dispose()
"""


@contextmanager
def another_replica(server: LiveServer, project_name: str) -> Iterator[Callable[[float], None]]:
    """Sets the threshold as another API process's UpdateModelThreshold would, from a process started (and
    imported) ahead, so a write takes milliseconds. A second engine on the SQLite file in this process would drop
    the live server's file locks when it closes."""
    replica = subprocess.Popen(
        [sys.executable, "-c", OTHER_REPLICA, server.settings.resolved_database_url, project_name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert replica.stdin is not None and replica.stdout is not None
    try:
        assert replica.stdout.readline().strip() == "ready"

        def write(value: float) -> None:
            replica.stdin.write(f"{value!r}\n")
            replica.stdin.flush()
            assert replica.stdout.readline().strip() == "done"

        yield write
    finally:
        replica.stdin.close()
        assert replica.wait(timeout=60) == 0


def test_cached_requests_read_nothing_from_the_database(long_ttl: LiveServer, tiny_model: TinyModel) -> None:
    lv = host(long_ttl, "cached-reads", tiny_model[0])
    body = encode(defective_pixels(tiny_model[1][0]))
    detect(lv, "cached-reads", body)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not threading.current_thread().name.startswith(("lv-", "training-")):  # not the log writer, the dispatcher
            statements.append(statement)

    event.listen(long_ttl.context.engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            detect(lv, "cached-reads", body)
    finally:
        event.remove(long_ttl.context.engine, "before_cursor_execute", seen)
    assert statements == []


def test_stop_start_and_threshold_changes_apply_to_the_next_request(
    long_ttl: LiveServer, tiny_model: TinyModel
) -> None:
    project = "invalidated"
    lv = host(long_ttl, project, tiny_model[0])
    body = encode(defective_pixels(tiny_model[1][1]))
    assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is True

    set_threshold(long_ttl.context.engine, project, 1.0 + 1e-6)
    assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is False
    set_threshold(long_ttl.context.engine, project, 0.5)
    assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is True

    lv.stop_model(ProjectName=project, ModelVersion="1")
    with pytest.raises(ClientError) as stopping:
        detect(lv, project, body)
    assert stopping.value.response["Error"]["Code"] == "ConflictException"
    wait_for_status(lv, project, "1", "TRAINED")
    with pytest.raises(ClientError) as stopped:
        detect(lv, project, body)
    assert stopped.value.response["Error"]["Code"] == "ConflictException"

    lv.start_model(ProjectName=project, ModelVersion="1", MinInferenceUnits=1)
    wait_for_status(lv, project, "1", "HOSTED")
    assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is True
    lv.stop_model(ProjectName=project, ModelVersion="1")
    wait_for_status(lv, project, "1", "TRAINED")


def test_another_replicas_threshold_change_is_seen_within_the_ttl(short_ttl: LiveServer, tiny_model: TinyModel) -> None:
    project = "other-replica"
    lv = host(short_ttl, project, tiny_model[0])
    body = encode(defective_pixels(tiny_model[1][1]))
    with another_replica(short_ttl, project) as set_elsewhere:
        assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is True  # cached here
        set_elsewhere(1.0 + 1e-6)
        assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is True, "read from the cache"
        time.sleep(SHORT_TTL_S + 0.2)
        assert detect(lv, project, body)["DetectAnomalyResult"]["IsAnomalous"] is False


def test_server_timing_names_every_stage(short_ttl: LiveServer, tiny_model: TinyModel) -> None:
    lv = short_ttl.boto3_client()
    project = "server-timing"
    if project not in [item["ProjectName"] for item in lv.list_projects()["Projects"]]:
        lv = host(short_ttl, project, tiny_model[0])
    reply = detect(lv, project, encode(defective_pixels(tiny_model[1][0])))
    stages = parse_server_timing(reply["ResponseMetadata"]["HTTPHeaders"]["server-timing"])
    assert set(DETECT_STAGES) == set(stages)
    assert all(value >= 0 for value in stages.values()) and stages["inference"] > 0

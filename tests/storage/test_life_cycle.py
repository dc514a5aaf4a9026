"""A model's whole life through boto3 on PostgreSQL + S3 (moto_server), once per executor: train, host, detect, stop,
delete. The embedded executor runs it on one API process; the Ray executor on a real local Ray cluster (training as a
Ray task, units as Ray Serve replicas) behind two API processes on different ports, one of them restarted while the
model is hosted."""

import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import TrainingJob, TrainingLogLine
from tests.conftest import make_settings
from tests.helpers.crash_server import CrashableServer, wait_for
from tests.helpers.data import png_bytes
from tests.helpers.databases import database_url, postgres_available
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.ray_cluster import RAY_ENVIRONMENT, needs_ray, run_ray_cluster, training_worker_pids
from tests.helpers.s3_server import S3Server
from tests.jobs.seed import FAST_TRAINING, seed_project

pytestmark = pytest.mark.skipif(not postgres_available(), reason="needs LV_TEST_POSTGRES_URL")

TIMEOUT_S = 120
FAST = {
    "training_poll_interval_s": 0.2,
    "hosting_scale_interval_s": 0.2,
    "hosting_queue_per_unit": 0,
    "hosting_max_batch": 1,
}
"""Fast polling, and the smallest queue (one waiting request), so a burst of requests is throttled."""
BURST = 24
ROUNDS = 5
RAY = {"executor": "ray", "ray_unit_num_cpus": 0.5}
PROJECT = "widgets"


@dataclass
class Deployment:
    """The API processes of one deployment on one database and bucket: the first runs in the test process, the
    others are subprocesses on their own ports."""

    first: LiveServer
    others: list[CrashableServer]

    @property
    def bucket(self) -> str:
        return self.first.settings.storage_bucket

    def job(self) -> TrainingJob | None:
        with transaction(self.first.context.engine) as session:
            return session.exec(select(TrainingJob)).first()


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    with run_ray_cluster(num_cpus=2) as address:
        yield address


@pytest.fixture
def deploy(request: pytest.FixtureRequest, s3_server: S3Server, tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    with ExitStack() as stack:

        def open_deployment(executor: str, replicas: int) -> Deployment:
            settings: dict[str, Any] = {
                "database_url": stack.enter_context(database_url("postgresql", tmp_path)),
                **s3_server.settings_overrides(f"lv-{uuid.uuid4().hex[:12]}"),
                **FAST,
            }
            if executor == "ray":
                settings.update(RAY, ray_address=request.getfixturevalue("ray_address"))
            first = stack.enter_context(run_live_server(make_settings(tmp_path / "lv-home", **settings)))
            environment = {f"LV_{name.upper()}": str(value) for name, value in settings.items()}
            others = []
            for _ in range(replicas - 1):
                other = CrashableServer(first.settings, {**environment, **RAY_ENVIRONMENT})
                stack.callback(other.stop)
                other.start()
                others.append(other)
            return Deployment(first, others)

        yield open_deployment


def status(lv: Any) -> str:
    return lv.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]["Status"]


def wait_for_status(lv: Any, wanted: str) -> None:
    wait_for(lambda: status(lv) == wanted, TIMEOUT_S, f"model status {wanted} (now {status(lv)})", interval=0.2)


def train(deployment: Deployment, tmp_path: Path) -> Any:
    lv = deployment.first.boto3_client()
    seed_project(deployment.first.context, PROJECT, tmp_path / "seed", train=(10, 0), test=(10, 10))
    output = {"S3Location": {"Bucket": deployment.bucket, "Prefix": "training-output/"}}
    lv.create_model(ProjectName=PROJECT, OutputConfig=output, **FAST_TRAINING)
    return lv


def gone(lv: Any) -> bool:
    try:
        status(lv)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def detect(lv: Any) -> dict[str, Any]:
    image = png_bytes((64, 64), seed=7)
    return lv.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=image, ContentType="image/png")[
        "DetectAnomalyResult"
    ]


def burst(lv: Any) -> list[Any]:
    """Rounds of BURST DetectAnomalies released together (large images, so the units are slower than the requests
    arrive), until one is throttled or ROUNDS have run: "ok", or the Retry-After seconds of a ThrottlingException."""
    image = png_bytes((1024, 1024), seed=7)
    start = threading.Barrier(BURST)

    def one(_: int) -> Any:
        start.wait()
        try:
            lv.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=image, ContentType="image/png")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ThrottlingException", exc.response["Error"]
            return int(exc.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"])
        return "ok"

    outcomes: list[Any] = []
    with ThreadPoolExecutor(BURST) as pool:
        for _ in range(ROUNDS):
            outcomes += pool.map(one, range(BURST))
            if any(outcome != "ok" for outcome in outcomes):
                break
    return outcomes


@pytest.mark.parametrize(("executor", "replicas"), [("embedded", 1), pytest.param("ray", 2, marks=needs_ray)])
def test_train_host_detect_stop_delete(
    deploy: Callable[..., Deployment], tmp_path: Path, executor: str, replicas: int
) -> None:
    deployment = deploy(executor, replicas)
    lv = train(deployment, tmp_path)
    wait_for_status(lv, "TRAINED")
    job = deployment.job()
    assert job is not None and job.state == "SUCCEEDED" and job.attempts == 1
    assert (job.worker_id or "").startswith("ray:" if executor == "ray" else "")

    lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, MaxInferenceUnits=2)
    wait_for_status(lv, "HOSTED")
    clients = [lv, *(other.client() for other in deployment.others)]
    answers = [detect(client) for client in clients]
    assert all(0.0 <= answer["Confidence"] <= 1.0 for answer in answers)
    assert len({answer["IsAnomalous"] for answer in answers}) == 1, "every replica asks the same units"

    outcomes = burst(
        deployment.first.boto3_client(config=Config(retries={"max_attempts": 1}, max_pool_connections=BURST))
    )
    throttled = [outcome for outcome in outcomes if outcome != "ok"]
    assert throttled and all(retry_after >= 1 for retry_after in throttled), "a full queue answers Retry-After"

    for other in deployment.others:
        other.kill()
        restarted = other.start()
        wait_for_status(restarted, "HOSTED")
        assert detect(restarted) == answers[0], "a restarted replica finds the model still hosted"

    lv.stop_model(ProjectName=PROJECT, ModelVersion="1")
    wait_for_status(lv, "TRAINED")
    for client in [lv, *(other.client() for other in deployment.others)]:
        with pytest.raises(ClientError) as refused:
            detect(client)
        assert refused.value.response["Error"]["Code"] == "ConflictException"
    if executor == "ray":
        from ray import serve

        assert not [name for name in serve.status().applications if name.startswith("model-")]

    lv.delete_model(ProjectName=PROJECT, ModelVersion="1")
    wait_for(lambda: gone(lv), TIMEOUT_S, "the model to be deleted", interval=0.2)


@pytest.mark.parametrize("executor", [pytest.param("ray", marks=needs_ray)])
def test_a_run_whose_ray_worker_dies_is_retried_and_delete_model_cancels_it(
    deploy: Callable[..., Deployment], tmp_path: Path, executor: str
) -> None:
    deployment = deploy(executor, 1)
    lv = train(deployment, tmp_path)
    job = wait_for(lambda: (job := deployment.job()) and (job.worker_id or "").startswith("ray:") and job, 60, "a task")
    (pid, *_) = wait_for(lambda: training_worker_pids(job.id), 60, "the Ray worker of the training task")
    os.kill(pid, signal.SIGKILL)

    def retried() -> TrainingJob | None:
        again = deployment.job()
        return again if again and again.attempts == 2 and again.worker_id not in (None, job.worker_id) else None

    wait_for(retried, TIMEOUT_S, "a second attempt in a new Ray task")
    with transaction(deployment.first.context.engine) as session:
        log = [line.message for line in session.exec(select(TrainingLogLine).where(TrainingLogLine.job_id == job.id))]
    assert any("the Ray worker running the training was lost" in line and "start again" in line for line in log), log
    wait_for(lambda: training_worker_pids(job.id), 60, "the retried task's worker")
    lv.delete_model(ProjectName=PROJECT, ModelVersion="1")
    wait_for(lambda: deployment.job() is None or deployment.job().state == "CANCELLED", TIMEOUT_S, "the cancellation")
    wait_for(lambda: not training_worker_pids(job.id), 30, "the Ray task to stop")
    wait_for(lambda: gone(lv), TIMEOUT_S, "the model to be deleted", interval=0.2)

"""Durable training jobs: a service killed mid-training (API and worker) leaves no model TRAINING after a restart."""

import configparser
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from sqlmodel import select

from sdk.boto import boto3_client
from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Model, TrainingJob
from service.domain.projects import create_project
from service.domain.training_jobs import enqueue_job
from service.domain.training_outcomes import settle_interrupted
from service.jobs.queue import JobState, claim
from service.settings import Settings
from tests.helpers.live_server import free_port, run_live_server
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project


def _job(context: AppContext) -> TrainingJob:
    with transaction(context.engine) as session:
        job = session.exec(select(TrainingJob)).one()
        session.expunge(job)
        return job


MID_RUN_PHASES = {"training", "validating", "evaluating", "exporting"}


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[tuple[Settings, AppContext, str]]:
    """An openlv service in its own process group (so the test can kill it like a crash), and a context on its data."""
    settings = Settings(home=tmp_path / "home", training_max_attempts=1)
    context = AppContext.open(settings)
    port = free_port()
    env = {**os.environ, "LV_HOME": str(settings.home), "LV_TRAINING_MAX_ATTEMPTS": "1"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--port", str(port)]
    process = subprocess.Popen(command, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        yield settings, context, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        context.close()
    assert process.returncode == -signal.SIGKILL


def test_killed_service_leaves_failed_model_with_message_after_restart(
    service_process: tuple[Settings, AppContext, str], tmp_path: Path
) -> None:
    settings, context, url = service_process
    seed_project(context, "crash", tmp_path / "seed", train=(10, 0), test=(10, 10))
    credentials = configparser.ConfigParser()
    credentials.read(settings.keys_file)
    lv = boto3_client(
        url,
        region_name=settings.region,
        aws_access_key_id=credentials["openlv"]["aws_access_key_id"],
        aws_secret_access_key=credentials["openlv"]["aws_secret_access_key"],
    )
    _wait(lambda: _reachable(lv), 60, "the service process to start")
    lv.create_model(ProjectName="crash", OutputConfig=OUTPUT, **FAST_TRAINING)
    # Any phase after the worker started and before the outcome is recorded; exporting lasts seconds even when a tiny
    # model trains in one, so a fast machine cannot slip past the window between two polls.
    _wait(lambda: _job(context).phase in MID_RUN_PHASES, 120, "training to start")
    worker_pid = int((_job(context).worker_id or "").rpartition(":")[2])

    os.killpg(os.getpgid(worker_pid), signal.SIGKILL)
    _wait(lambda: not _alive(worker_pid), 10, "the worker to die")
    assert _job(context).state == JobState.RUNNING

    with run_live_server(settings) as restarted:
        lv = restarted.boto3_client()
        description = lv.describe_model(ProjectName="crash", ModelVersion="1")["ModelDescription"]
        job = lv.describe_training_job(ProjectName="crash", ModelVersion="1")["TrainingJob"]
    assert description["Status"] == "TRAINING_FAILED"
    assert "the training worker stopped unexpectedly" in description["StatusMessage"]
    assert "call CreateModel again" in description["StatusMessage"]
    assert (job["State"], job["Attempts"]) == ("FAILED", 1)


def _reachable(lv: Any) -> bool:
    try:
        lv.list_projects()
    except (BotoCoreError, ClientError):
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_interrupted_job_is_requeued_until_its_attempts_run_out(tmp_path: Path) -> None:
    context = AppContext.open(Settings(home=tmp_path / "home"))
    with transaction(context.engine) as session:
        project = create_project(session, name="lost")
        model = Model(project_id=project.id, version=1, status="TRAINING", algorithm="draem", artifacts_prefix="m/")
        session.add(model)
        session.flush()
        job_id = enqueue_job(session, model_id=model.id).id
    assert job_id is not None

    def interrupt(reason: str, count_attempt: bool) -> tuple[TrainingJob, Model]:
        with transaction(context.engine) as session:
            assert claim(session, job_id=job_id)
        settle_interrupted(
            context.engine, context.store, job_id=job_id, reason=reason, count_attempt=count_attempt, max_attempts=2
        )
        with transaction(context.engine) as session:
            job, model = session.get(TrainingJob, job_id), session.exec(select(Model)).one()
            assert job is not None
            session.expunge_all()
            return job, model

    job, model = interrupt("the service shut down during training", False)
    assert (job.state, job.attempts, model.status) == (JobState.QUEUED, 0, "TRAINING")
    job, model = interrupt("the worker was killed", True)
    assert (job.state, job.attempts, model.status) == (JobState.QUEUED, 1, "TRAINING")
    job, model = interrupt("the worker was killed", True)
    assert (job.state, job.attempts, model.status) == (JobState.FAILED, 2, "TRAINING_FAILED")
    assert model.status_message.startswith("Training stopped: the worker was killed. It was tried 2 time(s).")
    context.close()

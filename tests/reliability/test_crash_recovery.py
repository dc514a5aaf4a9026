"""kill -9 of the server at each stage, then a restart and a consistency check (issue 11, "Keep it found").

Each stage starts an operation, kills the server's process group (server and training workers) while the operation
is under way, starts a new server on the same data and checks: every entry's file exists, no file without its row,
no partial write, no dataset, model or packaging job left in a transient status, no process of the killed server.
SQLite always; PostgreSQL when LV_TEST_POSTGRES_URL is set.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from service.context import AppContext
from service.settings import Settings
from tests.conftest import BACKENDS
from tests.helpers.crash_server import CrashableServer, consistency_problems, transient_states, wait_for
from tests.helpers.data import png_bytes
from tests.helpers.databases import database_url
from tests.helpers.ext_api import image_parts, upload
from tests.helpers.live_server import LiveServer
from tests.helpers.manifests import manifest_line
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project

BIG = (512, 512)
IMAGES = 60
ATTEMPTS = 3


@pytest.fixture(scope="module")
def big_images() -> list[bytes]:
    return [png_bytes(BIG, seed=7000 + index) for index in range(IMAGES)]


@pytest.fixture(params=BACKENDS)
def crashable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[CrashableServer, AppContext]]:
    with database_url(request.param, tmp_path) as url:
        settings = Settings(home=tmp_path / "home", database_url=url)
        context = AppContext.open(settings)  # migrates and writes the credentials the server's clients read
        server = CrashableServer(settings, {"LV_DATABASE_URL": url})
        server.start()
        try:
            yield server, context
        finally:
            server.stop()
            context.close()


def image_files(context: AppContext) -> int:
    return sum(1 for _ in context.store.list("images/"))


def as_live(server: CrashableServer, context: AppContext) -> LiveServer:
    key, secret = server.credentials
    return LiveServer(
        url=server.url, settings=server.settings, context=context, access_key_id=key, secret_access_key=secret
    )


def crash_during(
    server: CrashableServer, context: AppContext, call: Callable[[], Any], *, under_way: Callable[[], bool]
) -> bool:
    """Run `call` in a thread and kill the server once `under_way()`; False if the call ended first."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except (BotoCoreError, ClientError, OSError, httpx.HTTPError) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(lambda: under_way() or outcome, 120, "the operation to get under way", interval=0.005)
    if outcome:
        thread.join()
        return False
    server.kill()
    thread.join(timeout=60)
    return True


def restart_and_check(server: CrashableServer, context: AppContext, settle_timeout: float = 180) -> Any:
    lv = server.start()
    wait_for(lambda: not transient_states(context), settle_timeout, "transient statuses to settle", interval=0.5)
    assert server.process is not None
    assert consistency_problems(context, server_group=server.process.pid) == []
    return lv


def crash_dataset_change(
    server: CrashableServer, context: AppContext, start: Callable[[int], Callable[[], Any]]
) -> None:
    """Crash a dataset change (attempt n gets fresh names) once it has written files; the restart must roll it back."""
    for attempt in range(ATTEMPTS):
        before = image_files(context)
        if crash_during(server, context, start(attempt), under_way=lambda b=before: image_files(context) >= b + 3):
            break
    else:
        pytest.fail("every attempt finished before the server could be killed mid-way")
    lv = restart_and_check(server, context)
    for project in lv.list_projects()["Projects"]:
        for dataset in lv.describe_project(ProjectName=project["ProjectName"])["ProjectDescription"]["Datasets"]:
            assert dataset["Status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_FAILED_ROLLBACK_COMPLETE")


def test_crash_mid_upload(crashable: tuple[CrashableServer, AppContext], big_images: list[bytes]) -> None:
    server, context = crashable
    server.client().create_project(ProjectName="upload")
    parts = [part for index, data in enumerate(big_images) for part in image_parts(f"i{index}", data, "normal")]
    live = as_live(server, context)
    crash_dataset_change(server, context, lambda attempt: lambda: upload(live, "upload", "train", parts))
    response = upload(as_live(server, context), "upload", "train", parts[:2])
    assert response.status_code == 200, response.text


def test_crash_mid_import(crashable: tuple[CrashableServer, AppContext], big_images: list[bytes]) -> None:
    server, context = crashable
    lv = server.client()
    lv.create_project(ProjectName="import")
    for index, data in enumerate(big_images):
        context.store.put(f"incoming/normal/{index}.png", data)

    def start(attempt: int) -> Callable[[], Any]:
        uri = f"s3://{context.store.bucket}/incoming/"
        return lambda: server.client().import_dataset_entries(
            ProjectName="import", DatasetType="train", S3Uri=uri, Layout="folders"
        )

    crash_dataset_change(server, context, start)


def test_crash_mid_manifest_update(crashable: tuple[CrashableServer, AppContext], big_images: list[bytes]) -> None:
    server, context = crashable
    lv = server.client()
    lv.create_project(ProjectName="manifest")
    lv.create_dataset(ProjectName="manifest", DatasetType="train")
    lines = []
    for index, data in enumerate(big_images):
        key = f"manifest-images/{index}.png"
        context.store.put(key, data)
        lines.append(manifest_line(f"s3://{context.store.bucket}/{key}", "normal"))
    changes = "\n".join(json.dumps(line) for line in lines).encode()

    def update_and_wait() -> Any:
        """UpdateDatasetEntries answers UPDATE_IN_PROGRESS and applies the manifest after: wait for the outcome."""
        client = server.client()
        client.update_dataset_entries(ProjectName="manifest", DatasetType="train", Changes=changes)
        while True:
            status = client.describe_dataset(ProjectName="manifest", DatasetType="train")["DatasetDescription"]
            if status["Status"] != "UPDATE_IN_PROGRESS":
                return status
            time.sleep(0.005)

    def start(attempt: int) -> Callable[[], Any]:
        return update_and_wait

    crash_dataset_change(server, context, start)


def model_status(lv: Any, project: str, version: str) -> str:
    return lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]["Status"]


def job_phase(lv: Any, project: str, version: str) -> str:
    return lv.describe_training_job(ProjectName=project, ModelVersion=version)["TrainingJob"]["Phase"]


def test_crash_during_model_stages(crashable: tuple[CrashableServer, AppContext], tmp_path: Path) -> None:
    """Training, export, threshold update, packaging and hosting start, each cut short by a kill."""
    server, context = crashable
    seed_project(context, "stages", tmp_path / "seed", train=(10, 0), test=(10, 10))
    lv = server.client()

    for version, phase in (("1", "training"), ("2", "exporting")):
        lv.create_model(ProjectName="stages", OutputConfig=OUTPUT, **FAST_TRAINING)
        wait_for(
            lambda c=lv, v=version, p=phase: job_phase(c, "stages", v) == p, 300, f"the {phase} phase", interval=0.05
        )
        server.kill()
        lv = restart_and_check(server, context, settle_timeout=400)
        assert model_status(lv, "stages", version) in ("TRAINED", "TRAINING_FAILED")

    trained = next(
        m["ModelVersion"] for m in lv.list_models(ProjectName="stages")["Models"] if m["Status"] == "TRAINED"
    )

    lv.update_model_threshold(ProjectName="stages", ModelVersion=trained, Policy="F1_OPTIMAL")
    lv.update_model_threshold(ProjectName="stages", ModelVersion=trained, Policy="MANUAL", Value=0.25)
    server.kill()
    lv = restart_and_check(server, context)
    threshold = lv.describe_model(ProjectName="stages", ModelVersion=trained)["ModelDescription"]
    assert model_status(lv, "stages", trained) == "TRAINED", threshold

    configuration = {
        "Greengrass": {
            "S3OutputLocation": {"Bucket": context.store.bucket, "Prefix": "edge/"},
            "ComponentName": "com.example.stages",
            "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"},
            "CompilerOptions": '{"mcpu": "core-avx2"}',
        }
    }
    lv.start_model_packaging_job(
        ProjectName="stages", ModelVersion=trained, JobName="edge", Configuration=configuration
    )
    server.kill()
    lv = restart_and_check(server, context)
    job = lv.describe_model_packaging_job(ProjectName="stages", JobName="edge")["ModelPackagingDescription"]
    assert job["Status"] in ("SUCCEEDED", "FAILED")

    lv.start_model(ProjectName="stages", ModelVersion=trained, MinInferenceUnits=1)
    server.kill()
    lv = restart_and_check(server, context)
    assert model_status(lv, "stages", trained) == "HOSTED"
    lv.stop_model(ProjectName="stages", ModelVersion=trained)

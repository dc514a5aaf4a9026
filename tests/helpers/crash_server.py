"""An openlv server in its own process group, so a test can kill it with SIGKILL (a crash) and start it again on the
same data; and the consistency check a restarted service must pass."""

import configparser
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sqlmodel import select

from sdk.boto import boto3_client
from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry, Model, PackagingJob, StoredImage
from service.domain.dataset_state import IN_PROGRESS
from service.domain.stored_objects import IMAGE_PREFIX
from service.settings import Settings
from tests.helpers.live_server import free_port

TRANSIENT_MODEL_STATUSES = {"TRAINING", "STARTING_HOSTING", "STOPPING_HOSTING", "DELETING"}
TRANSIENT_PACKAGING_STATUSES = {"CREATED", "RUNNING"}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class CrashableServer:
    """`start()`, `kill()` (SIGKILL to the server and its training workers), `start()` again on the same LV_HOME."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = {**os.environ, "LV_HOME": str(settings.home), **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Any:
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--port", str(port)]
        self.process = subprocess.Popen(command, env=self.env, start_new_session=True, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        lv = self.client()
        wait_for(lambda: _reachable(lv), 90, "the server to start", interval=0.2)
        return lv

    def client(self, **config: Any) -> Any:
        credentials = configparser.ConfigParser()
        credentials.read(self.settings.keys_file)
        return boto3_client(
            self.url,
            region_name=self.settings.region,
            aws_access_key_id=credentials["openlv"]["aws_access_key_id"],
            aws_secret_access_key=credentials["openlv"]["aws_secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120, **config),
        )

    @property
    def credentials(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.settings.keys_file)
        return parser["openlv"]["aws_access_key_id"], parser["openlv"]["aws_secret_access_key"]

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.kill()


def _reachable(lv: Any) -> bool:
    try:
        lv.list_projects()
    except (BotoCoreError, ClientError):
        return False
    return True


def transient_states(context: AppContext) -> list[str]:
    with transaction(context.engine) as session:
        datasets = [
            f"dataset {row.id} {row.status}" for row in session.exec(select(Dataset)) if row.status in IN_PROGRESS
        ]
        models = [
            f"model {row.id} {row.status}"
            for row in session.exec(select(Model))
            if row.status in TRANSIENT_MODEL_STATUSES
        ]
        jobs = [
            f"packaging job {row.id} {row.status}"
            for row in session.exec(select(PackagingJob))
            if row.status in TRANSIENT_PACKAGING_STATUSES
        ]
    return datasets + models + jobs


def consistency_problems(context: AppContext, *, server_group: int | None) -> list[str]:
    """What a crash must never leave after a restart: entries without files, files without rows, partial writes,
    datasets, models or packaging jobs in a transient status, and worker processes of the killed server."""
    store = context.store
    problems = transient_states(context)
    with transaction(context.engine) as session:
        stored = {row.sha256: row.key for row in session.exec(select(StoredImage))}
        for entry in session.exec(select(DatasetEntry)):
            for sha in (entry.image_sha256, entry.mask_sha256):
                if sha is not None and (sha not in stored or not store.exists(stored[sha])):
                    problems.append(f"entry {entry.id} refers to a missing object {sha}")
    known = set(stored.values())
    problems += [f"orphan file {key}" for key in store.list(IMAGE_PREFIX) if key not in known]
    root = getattr(store, "root", None)
    if isinstance(root, Path):
        problems += [f"partial write {path}" for path in root.rglob(".tmp-*")]
    problems += [f"orphan process {pid}" for pid in processes_of(context.settings.home, but=server_group)]
    return problems


def processes_of(home: Path, *, but: int | None = None) -> list[int]:
    """Processes (other than `but`'s group) whose environment names this LV_HOME: servers and training workers."""
    marker = f"LV_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            group = os.getpgid(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
        if marker in environment and group != but:
            found.append(int(entry.name))
    return found

"""A fresh openlv server in its own process with the benchmark's model registered on it, for `bench/serving.py`,
`bench/load.py` and `bench/shadow.py`: start it, register a saved model as a TRAINED version (what CreateModel ends
with), host and unhost it, and a boto3 client with the server's own keys."""

import configparser
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.credentials import Credentials
from sqlmodel import select

from sdk.boto import boto3_client
from service.db.engine import build_engine, transaction
from service.db.models import Model, Project
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.settings import Settings
from service.storage import build_store

PROJECT = "serving-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The openlv server in its own process, on uvicorn's httptools and uvloop as `lv server` runs it."""
    code = (
        "import uvicorn; from pathlib import Path; from service.app import create_app; "
        "from service.settings import Settings; "
        f"uvicorn.run(create_app(Settings(home=Path({str(home)!r}))), host='127.0.0.1', port={port}, "
        "log_level='warning', http='httptools', loop='uvloop')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env={**os.environ, **(env or {})}
    )
    return listening(process, port, "the openlv server")


def listening(process: subprocess.Popen[bytes], port: int, what: str) -> subprocess.Popen[bytes]:
    """`process` once it accepts connections on `port` (2 minutes at most; killed otherwise)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{what} did not start")


def register_model(home: Path, folder: Path, version: int) -> None:
    """Put the saved model where training would and record it as a TRAINED version (what CreateModel ends with)."""
    settings = Settings(home=home)
    store = build_store(settings)
    prefix = f"models/{PROJECT}/{uuid.uuid4().hex}/"
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            store.put(prefix + ARTIFACTS_FOLDER + path.relative_to(folder).as_posix(), path.read_bytes())
    engine = build_engine(settings.resolved_database_url)
    with transaction(engine) as session:
        project = session.exec(select(Project).where(Project.name == PROJECT)).one()
        assert project.id is not None
        session.add(
            Model(project_id=project.id, version=version, status="TRAINED", algorithm="bench", artifacts_prefix=prefix)
        )
    engine.dispose()


def wait_hosted(client: Any, version: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.describe_model(ProjectName=PROJECT, ModelVersion=version)["ModelDescription"]["Status"]
        if status == "HOSTED":
            return
        if status == "HOSTING_FAILED":
            raise RuntimeError("hosting failed")
        time.sleep(0.2)
    raise RuntimeError("the model was not hosted in time")


def boto3_for(home: Path, port: int) -> tuple[Any, Credentials]:
    credentials = configparser.ConfigParser()
    credentials.read(Settings(home=home).keys_file)
    profile = credentials["openlv"]
    key, secret = profile["aws_access_key_id"], profile["aws_secret_access_key"]
    client = boto3_client(
        f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64, read_timeout=120),
    )
    return client, Credentials(key, secret)


def host(client: Any, units: int) -> None:
    client.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=units, MaxInferenceUnits=units)
    wait_hosted(client, "1")


def unhost(client: Any) -> None:
    client.stop_model(ProjectName=PROJECT, ModelVersion="1")
    while client.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]["Status"] != "TRAINED":
        time.sleep(0.1)

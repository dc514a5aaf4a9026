"""Storage fixtures: one moto_server per session, and every store backend behind one parametrised fixture."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio

from service.storage import ObjectStore
from service.storage.local import LocalStore
from service.storage.s3 import S3Store
from tests.helpers.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server, run_s3_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with run_s3_server() as server:
        yield server


def s3_store(server: S3Server, bucket: str) -> S3Store:
    client = Minio(server.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False, region=REGION)
    return S3Store(client, bucket)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty store of each backend, in a bucket of its own."""
    bucket = f"store-{uuid.uuid4().hex[:12]}"
    if request.param == "local":
        return LocalStore(tmp_path / "bucket", bucket)
    return s3_store(request.getfixturevalue("s3_server"), bucket)

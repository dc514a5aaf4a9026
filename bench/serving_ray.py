"""The Ray executor's half of `bench/serving.py --executor ray`: the same service measurements with LV_EXECUTOR=ray.

A local Ray cluster (one CPU per core, no auth) is started in the benchmark's process; the server joins it by its
GCS address. Ray needs a shared database and object store: a fresh database on LV_BENCH_POSTGRES_URL (default: the
local PostgreSQL) and a `moto_server` bucket (or the S3 server of LV_S3_ENDPOINT with its LV_S3_* credentials). Each
Serve replica reserves cores/2 CPUs, so the two-unit levels fit on the machine as the embedded units do.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def ray_environment(cores: int) -> Iterator[None]:
    """LV_* variables (for this process and the server it starts) that put the service on Ray, PostgreSQL and S3."""
    import ray
    from ray import serve

    from service.distributed.cluster import NAMESPACE

    before = dict(os.environ)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    with _database() as database_url, _s3() as s3:
        ray.init(num_cpus=cores, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
        os.environ.update(
            {
                "LV_EXECUTOR": "ray",
                "LV_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
                "LV_RAY_UNIT_NUM_CPUS": str(max(1, cores // 2)),
                "LV_DATABASE_URL": database_url,
                **s3,
            }
        )
        try:
            yield
        finally:
            serve.shutdown()
            ray.shutdown()
            os.environ.clear()
            os.environ.update(before)


SERVICE_ROWS = (("service_c1", 1, 1), ("service_c4", 4, 2), ("service_c16", 16, 2))
"""(row key, concurrency, units) of the service rows both executors measure."""


def side_by_side(embedded: dict[str, dict[str, Any]], on_ray: dict[str, dict[str, Any]]) -> str:
    """Per concurrency level: p50 and images/s of both executors, and Ray's throughput relative to embedded."""
    lines = [
        "| concurrency | units | embedded p50 ms | ray p50 ms | embedded images/s | ray images/s | ray / embedded |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, concurrency, units in SERVICE_ROWS:
        left, right = embedded[key], on_ray[f"ray_{key}"]
        ratio = right["images_per_s"] / left["images_per_s"] if left["images_per_s"] else float("nan")
        lines.append(
            f"| {concurrency} | {units} | {left['p50_ms']:.1f} | {right['p50_ms']:.1f} | "
            f"{left['images_per_s']:.1f} | {right['images_per_s']:.1f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


@contextmanager
def _database() -> Iterator[str]:
    admin = make_url(os.environ.get("LV_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    name = f"openlv_bench_{uuid.uuid4().hex[:10]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _s3() -> Iterator[dict[str, str]]:
    bucket = {"LV_STORAGE_BACKEND": "s3", "LV_STORAGE_BUCKET": f"lv-bench-{uuid.uuid4().hex[:10]}"}
    if os.environ.get("LV_S3_ENDPOINT"):
        yield bucket
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    executable = Path(sys.executable).parent / "moto_server"
    command = [str(executable) if executable.exists() else shutil.which("moto_server") or "moto_server"]
    server = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield {
            **bucket,
            "LV_S3_ENDPOINT": f"127.0.0.1:{port}",
            "LV_S3_ACCESS_KEY": "bench",
            "LV_S3_SECRET_KEY": "bench-secret",
            "LV_S3_SECURE": "false",
            "LV_S3_REGION": "us-east-1",
        }
    finally:
        server.terminate()
        server.wait(timeout=10)

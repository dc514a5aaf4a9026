"""A real S3-compatible server for tests: `moto_server` in a subprocess on a free loopback port."""

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.live_server import free_port

ACCESS_KEY = "moto-test-access"
SECRET_KEY = "moto-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port, the form LV_S3_ENDPOINT takes

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def settings_overrides(self, bucket: str) -> dict[str, Any]:
        """Settings that point a service at this server."""
        return {
            "storage_backend": "s3",
            "storage_bucket": bucket,
            "s3_endpoint": self.endpoint,
            "s3_access_key": ACCESS_KEY,
            "s3_secret_key": SECRET_KEY,
            "s3_secure": False,
            "s3_region": REGION,
        }

    def boto3_client(self) -> Any:
        """A plain boto3 S3 client, for putting and inspecting objects as an outside user would."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )


def moto_server_executable() -> str:
    """`moto_server` next to the running interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise RuntimeError("moto_server not found: install the dev extras (moto[server])")
    return found


@contextmanager
def run_s3_server(timeout_s: float = 30) -> Iterator[S3Server]:
    port = free_port()
    process = subprocess.Popen(
        [moto_server_executable(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = S3Server(endpoint=f"127.0.0.1:{port}")
    try:
        _wait_until_ready(server, process, timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(server: S3Server, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {process.returncode} before it was ready")
        try:
            httpx.get(f"{server.url}/moto-api/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"moto_server did not answer on {server.endpoint} within {timeout_s} s")

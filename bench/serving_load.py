"""A lean load generator for the serving benchmark: every request is SigV4-signed before the clock starts, then sent
over kept-alive `http.client` connections from plain threads, so the client costs little CPU on the cores the server
shares. Also reads a process's CPU time from /proc (the server's CPU milliseconds per request)."""

import http.client
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from service.api.server_timing import parse_server_timing

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Prepared:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    stages: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def sign_requests(
    port: int, path: str, bodies: list[bytes], count: int, credentials: Credentials | None
) -> list[Prepared]:
    """`count` POSTs of the bodies in turn, signed as boto3 would sign them (unsigned when `credentials` is None)."""
    prepared = []
    for index in range(count):
        body = bodies[index % len(bodies)]
        request = AWSRequest(
            method="POST", url=f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "image/png"}
        )
        if credentials is not None:
            SigV4Auth(credentials, "lookoutvision", "us-east-1").add_auth(request)
        prepared.append(Prepared(path, body, dict(request.headers.items())))
    return prepared


def send(port: int, prepared: list[Prepared], concurrency: int) -> LoadResult:
    """Send the prepared requests from `concurrency` threads, one kept-alive connection each."""
    result = LoadResult()
    lock = threading.Lock()
    work = iter(prepared)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for item in work:
            begin = time.perf_counter()
            connection.request("POST", item.path, body=item.body, headers=item.headers)
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - begin
            with lock:
                if response.status == 200:
                    result.latencies.append(elapsed)
                    timing = response.getheader("Server-Timing")
                    if timing:
                        result.stages.append(parse_server_timing(timing))
                else:
                    code = _error_code(response, payload)
                    result.errors[code] = result.errors.get(code, 0) + 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def _error_code(response: http.client.HTTPResponse, payload: bytes) -> str:
    header = response.getheader("x-amzn-ErrorType")
    if header:
        return header.split(":")[0]
    try:
        document: Any = json.loads(payload)
        return str(document.get("__type") or document.get("code") or response.status)
    except ValueError:
        return str(response.status)

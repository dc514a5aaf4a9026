"""A lean load generator for the serving benchmark: every request is SigV4-signed and serialised to its HTTP/1.1
bytes before the clock starts, then written whole to a kept-alive socket from plain threads, and the answer is read
with httptools' C parser (uvicorn's own), so the client costs little CPU on the cores the server shares and adds
little to the latency it measures. Also reads a process's CPU time from /proc (the server's CPU milliseconds per
request)."""

import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from service.api.server_timing import parse_server_timing

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OUTSIDE = "outside"
"""A request's milliseconds in none of the server's stages: HTTP parsing, uvicorn, the kernel's loopback, the client."""


@dataclass(frozen=True)
class Prepared:
    """One signed request, as its bytes on the wire."""

    message: bytes


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    stages: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Answer:
    """httptools' parser callbacks for one response: its headers (lower-case names) and body."""

    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


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
        headers = {"Host": f"127.0.0.1:{port}", **dict(request.headers.items()), "Content-Length": str(len(body))}
        head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        prepared.append(Prepared(head.encode("latin-1") + b"\r\n" + body))
    return prepared


def send(port: int, prepared: list[Prepared], concurrency: int) -> LoadResult:
    """Send the prepared requests from `concurrency` threads, one kept-alive connection each."""
    result = LoadResult()
    lock = threading.Lock()
    work = iter(prepared)

    def worker() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for item in work:
                begin = time.perf_counter()
                connection.sendall(item.message)
                status, answer = _read_answer(connection)
                elapsed = time.perf_counter() - begin
                with lock:
                    if status == 200:
                        result.latencies.append(elapsed)
                        timing = answer.headers.get("server-timing")
                        if timing:
                            stages = parse_server_timing(timing)
                            stages[OUTSIDE] = 1000 * elapsed - sum(stages.values())
                            result.stages.append(stages)
                    else:
                        code = _error_code(status, answer)
                        result.errors[code] = result.errors.get(code, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def _read_answer(connection: socket.socket) -> tuple[int, _Answer]:
    """One whole response from a kept-alive connection: its status and parsed parts."""
    answer = _Answer()
    parser = httptools.HttpResponseParser(answer)
    while not answer.complete:
        data = connection.recv(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        parser.feed_data(data)
    return parser.get_status_code(), answer


def _error_code(status: int, answer: _Answer) -> str:
    header = answer.headers.get("x-amzn-errortype")
    if header:
        return header.split(":")[0]
    try:
        document: Any = json.loads(b"".join(answer.chunks))
        return str(document.get("__type") or document.get("code") or status)
    except ValueError:
        return str(status)

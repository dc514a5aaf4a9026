"""Bodies are capped per operation and refused before they are read; signature headers are checked first (finding 6)."""

import socket
import time
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from service.auth.request_rules import JSON_BODY_LIMIT, body_limit
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

PROJECTS = "/2020-11-20/projects"


def raw_request(server: LiveServer, head: str, body_sent: bytes = b"") -> tuple[bytes, float]:
    """Send a request head (and only `body_sent` of its body); the raw answer and how long it took."""
    address = urlparse(server.url)
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode() + body_sent)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer, time.monotonic() - started


def test_an_unsigned_huge_post_is_refused_without_reading_its_body(server: LiveServer) -> None:
    head = (
        f"POST {PROJECTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    answer, seconds = raw_request(server, head, b"{")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert b"AccessDeniedException" in answer
    assert seconds < 5  # answered on the headers: the 100 MB were never sent


def test_a_signed_body_over_the_json_limit_is_413_before_it_is_read(server: LiveServer) -> None:
    url = server.url + PROJECTS
    headers = signed_headers(
        "POST",
        url,
        body=b"{}",
        headers={"Content-Type": "application/json"},
        region=server.settings.region,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST {PROJECTS} HTTP/1.1\r\nHost: {urlparse(url).netloc}\r\n{lines}Content-Length: {JSON_BODY_LIMIT + 1}\r\n\r\n"
    answer, _ = raw_request(server, head, b"{")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"ValidationException" in answer


def test_detect_anomalies_is_capped_at_the_image_limit(server: LiveServer) -> None:
    path = "/2020-11-20/projects/p/models/1/detect"
    url = server.url + path
    body = b"\x89PNG" + b"\0" * (server.settings.max_image_bytes + 1)
    headers = signed_headers(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "image/png"},
        region=server.settings.region,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    assert response.status_code == 413, response.text
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"


def test_a_chunked_body_without_length_is_refused(server: LiveServer, project_name: str) -> None:
    body = f'{{"ProjectName": "{project_name}"}}'.encode()
    headers = signed_headers(
        "POST",
        server.url + PROJECTS,
        body=body,
        headers={"Content-Type": "application/json"},
        region=server.settings.region,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )

    def chunks() -> Any:
        yield body

    response = httpx.post(server.url + PROJECTS, content=chunks(), headers=headers)
    assert response.status_code == 400, response.text
    assert "Content-Length" in response.json()["Message"]


@pytest.mark.parametrize(
    ("operation", "at_least"),
    [("create_project", JSON_BODY_LIMIT), ("update_dataset_entries", 64 * 1024 * 1024), ("detect_anomalies", 1)],
)
def test_limits_fit_what_each_operation_carries(server: LiveServer, operation: str, at_least: int) -> None:
    assert body_limit(operation, server.settings) >= at_least


def test_an_upload_is_allowed_far_more_than_a_json_call(server: LiveServer) -> None:
    """The path-based recognition matches the route the request reaches."""
    from service.auth.request_rules import operation_of

    assert operation_of("POST", "/2020-11-20/projects/p1/datasets/train/images") == "upload_dataset_images"
    assert operation_of("POST", "/2020-11-20/projects/p1/datasets/train/images/x") is None
    assert operation_of("PATCH", "/2020-11-20/projects/p1/datasets/test/entries") == "update_dataset_entries"
    assert operation_of("POST", "/2020-11-20/projects/p1/models/3/detect") == "detect_anomalies"

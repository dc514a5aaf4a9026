"""The console answers in under 300 ms on a project of 2,000 images (SQLite and PostgreSQL): page shells, the API
calls a page makes (paged, filtered), and thumbnails, which are made once and then served from storage."""

import statistics
import time
from collections.abc import Callable

import httpx
import pytest
from sqlmodel import col, select

from console.thumbnails import thumbnail_key
from service.db.engine import transaction
from service.db.models import DatasetEntry
from tests.console.data import seed_large_project
from tests.console.test_sessions import sign_in
from tests.helpers.live_server import LiveServer

IMAGES = 2000
BUDGET_S = 0.3


def median_seconds(call: Callable[[], httpx.Response], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        reply = call()
        times.append(time.perf_counter() - started)
        assert reply.status_code == 200, reply.text[:300]
    return statistics.median(times)


@pytest.fixture
def big_project(server: LiveServer, project_name: str) -> str:
    seed_large_project(server.context, project_name, IMAGES)
    return project_name


def test_pages_and_their_api_calls_answer_quickly_on_2000_images(server: LiveServer, big_project: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        sign_in(server, client)
        api = f"/2020-11-20/projects/{big_project}"
        calls = {
            "page: projects": lambda: client.get("/console/projects"),
            "page: project": lambda: client.get(f"/console/projects/{big_project}"),
            "page: model list": lambda: client.get(f"/console/projects/{big_project}/models"),
            "DescribeProject": lambda: client.get(api),
            "DescribeDataset": lambda: client.get(f"{api}/datasets/train"),
            "ListDatasetEntries (48)": lambda: client.get(f"{api}/datasets/train/entries", params={"maxResults": 48}),
            "ListDatasetEntries (anomaly)": lambda: client.get(
                f"{api}/datasets/train/entries", params={"maxResults": 48, "anomalyClass": "anomaly"}
            ),
            "ListDatasetEntries (name filter)": lambda: client.get(
                f"{api}/datasets/train/entries", params={"maxResults": 48, "sourceRefContains": "01999"}
            ),
        }
        timings = {name: median_seconds(call) for name, call in calls.items()}

        with transaction(server.context.engine) as session:
            last = session.exec(select(DatasetEntry).order_by(col(DatasetEntry.id).desc())).first()
            assert last is not None
            ref, sha = last.source_ref, last.image_sha256
        url = f"/console/projects/{big_project}/image"
        assert not server.context.store.exists(thumbnail_key(sha))
        first = client.get(url, params={"ref": ref})
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        assert server.context.store.exists(thumbnail_key(sha)), "the thumbnail is kept after the first request"
        timings["thumbnail (cached)"] = median_seconds(lambda: client.get(url, params={"ref": ref}))
        assert client.get(url, params={"ref": ref}).content == first.content
        other = client.get("/console/projects/some-other-project/image", params={"ref": ref})
        assert other.status_code == 404, "images are reached through the project that holds them"

    print("\n" + "\n".join(f"{name:34s} {1000 * seconds:7.1f} ms" for name, seconds in timings.items()))
    slow = {name: round(1000 * seconds) for name, seconds in timings.items() if seconds > BUDGET_S}
    assert not slow, f"slower than {BUDGET_S * 1000:.0f} ms: {slow}"

"""Human-review benchmark: what routing adds to DetectAnomalies, and how fast 8 reviewers drain a queue.

    PYTHONPATH=. .venv/bin/python bench/review.py [--postgres postgresql://postgres@127.0.0.1:5432/test]

Reuses the test helpers (a live server on loopback, the tiny 64 px PaDiM model, seeded tasks), so it needs no data.
Measures DetectAnomalies latency (p50/p95 over sequential requests) without a policy, with a policy that matches
nothing and with one that routes every request (SamplingPercent 100: image, anomaly map and mask stored, a task
row written); then 8 concurrent reviewers claiming and completing 200 tasks (tasks/s, and any task claimed twice).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.settings import Settings
from tests.api.test_hosting import wait_for_status
from tests.helpers.databases import POSTGRES_URL_ENV, database_url
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import add_trained_model, encode, normal_pixels, train_tiny_model
from tests.review.conftest import reviewer_client
from tests.review.seed import seed_tasks


def _latencies(lv: Any, project: str, bodies: list[bytes]) -> dict[str, float]:
    spent = []
    for body in bodies:
        started = time.perf_counter()
        lv.detect_anomalies(ProjectName=project, ModelVersion="1", Body=body, ContentType="image/png")
        spent.append(1000 * (time.perf_counter() - started))
    spent.sort()
    return {"p50_ms": statistics.median(spent), "p95_ms": spent[int(0.95 * (len(spent) - 1))]}


def bench_routing(server: LiveServer, model: tuple[Path, Any], requests: int) -> dict[str, Any]:
    lv = server.boto3_client()
    project = "bench-routing"
    lv.create_project(ProjectName=project)
    add_trained_model(server, project, model[0])
    lv.start_model(ProjectName=project, ModelVersion="1", MinInferenceUnits=1)
    wait_for_status(lv, project, "1", "HOSTED")
    base = normal_pixels(model[1][0])

    def bodies(offset: int) -> list[bytes]:
        out = []
        for index in range(requests):
            pixels = base.copy()
            pixels[0, 0] = [(offset + index) % 256, (offset + index) // 256 % 256, 1]
            out.append(encode(pixels))
        return out

    _latencies(lv, project, bodies(9000)[:20])  # warm-up
    results = {"no policy": _latencies(lv, project, bodies(0))}
    lv.put_review_policy(ProjectName=project, ConfidenceBelow=0.0)
    results["policy, nothing routed"] = _latencies(lv, project, bodies(1000))
    lv.put_review_policy(ProjectName=project, SamplingPercent=100)
    results["policy, every request routed"] = _latencies(lv, project, bodies(2000))
    lv.stop_model(ProjectName=project, ModelVersion="1")
    return results


def bench_queue(server: LiveServer, tasks: int, reviewers: int) -> dict[str, Any]:
    project = "bench-queue"
    seed_tasks(server, project, [0.3 + 0.4 * index / tasks for index in range(tasks)])
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(reviewers + 1)

    def work(number: int) -> None:
        client = reviewer_client(server, f"bench {number}")
        barrier.wait()
        while (task := client.claim_review_task(ProjectName=project).get("ReviewTask")) is not None:
            client.complete_review_task(ProjectName=project, TaskId=task["TaskId"], Verdict="normal")
            with lock:
                claimed.append(task["TaskId"])

    threads = [threading.Thread(target=work, args=(number,)) for number in range(reviewers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "tasks": tasks,
        "reviewers": reviewers,
        "seconds": elapsed,
        "tasks_per_s": len(claimed) / elapsed,
        "claimed_twice": len(claimed) - len(set(claimed)),
        "unclaimed": tasks - len(set(claimed)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="Also run on PostgreSQL (an admin URL; a throw-away database is made).")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=200)
    options = parser.parse_args()
    if options.postgres:
        os.environ[POSTGRES_URL_ENV] = options.postgres
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        model = train_tiny_model(Path(folder) / "model")
        for backend in ["sqlite"] + (["postgres"] if options.postgres else []):
            home = Path(folder) / backend
            with database_url(backend, home) as url, run_live_server(Settings(home=home, database_url=url)) as live:
                report[backend] = {
                    "detect": bench_routing(live, model, options.requests),
                    "queue": bench_queue(live, options.tasks, 8),
                }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

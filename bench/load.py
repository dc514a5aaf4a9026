"""Load benchmark: DetectAnomalies at concurrency 32 for 60 s on 1-2 inference units with autoscaling on.

    .venv/bin/python bench/load.py [--concurrency 32] [--seconds 60] [--json bench-load.json]

Trains a small model with the engine, registers it as a TRAINED version of a fresh server in its own process, hosts it
with MinInferenceUnits=1, MaxInferenceUnits=2 and sends DetectAnomalies from `--concurrency` threads (boto3, no
retries) for `--seconds`. Reported: successes, ThrottlingExceptions (and how many carried Retry-After), other errors,
p50/p99 latency of successes, the unit count sampled every second, the server's RSS before and after, and the
detections log's row count against the successes (they must match: every answered call is logged once).

Targets: no error other than throttling; every throttle carries Retry-After; RSS after within 25% of RSS after warm-up;
detections logged == successes.
"""

import argparse
import configparser
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sqlmodel import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import train_model
from bench.serving_server import PROJECT, free_port, register_model, start_server, wait_hosted
from sdk.boto import boto3_client
from service.db.engine import build_engine, transaction
from service.db.models import Detection
from service.settings import Settings


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def drive(client: Any, bodies: list[bytes], concurrency: int, seconds: float, units: list[int]) -> dict[str, Any]:
    """`concurrency` threads call DetectAnomalies until `seconds` pass; a sampler records the unit count."""
    latencies: list[float] = []
    throttles = {"count": 0, "with_retry_after": 0}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        index = offset
        while time.monotonic() < stop:
            body = bodies[index % len(bodies)]
            index += concurrency
            begin = time.perf_counter()
            try:
                client.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")
            except ClientError as error:
                code = error.response["Error"]["Code"]
                with lock:
                    if code == "ThrottlingException":
                        throttles["count"] += 1
                        headers = error.response["ResponseMetadata"].get("HTTPHeaders", {})
                        throttles["with_retry_after"] += "retry-after" in headers
                    else:
                        errors[code] = errors.get(code, 0) + 1
                continue
            except BotoCoreError as error:
                with lock:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                continue
            with lock:
                latencies.append(time.perf_counter() - begin)

    def sample() -> None:
        while time.monotonic() < stop:
            description = client.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]
            units.append(int(description.get("CurrentInferenceUnits", 0)))
            time.sleep(1.0)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(concurrency)]
    threads.append(threading.Thread(target=sample))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "throttles": throttles, "errors": errors}


def signed_client(settings: Settings, port: int, concurrency: int) -> Any:
    credentials = configparser.ConfigParser()
    credentials.read(settings.keys_file)
    profile = credentials["openlv"]
    return boto3_client(
        f"http://127.0.0.1:{port}",
        region_name=settings.region,
        aws_access_key_id=profile["aws_access_key_id"],
        aws_secret_access_key=profile["aws_secret_access_key"],
        config=Config(
            retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=concurrency + 4, read_timeout=120
        ),
    )


def logged_detections(settings: Settings) -> int:
    engine = build_engine(settings.resolved_database_url)
    with transaction(engine) as session:
        count = session.exec(select(func.count()).select_from(Detection)).one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--model", default="padim")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lv-bench-load-") as scratch:
        work = Path(scratch)
        folder, bodies = train_model(work, args.model, args.image_size, None)
        home = work / "home"
        settings = Settings(home=home)
        port = free_port()
        server = start_server(home, port)
        try:
            client = signed_client(settings, port, args.concurrency)
            client.create_project(ProjectName=PROJECT)
            register_model(home, folder, 1)
            client.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1, MaxInferenceUnits=2)
            wait_hosted(client, "1")
            drive(client, bodies, 4, 5, [])  # warm-up
            before_detections = logged_detections(settings)
            rss_before = rss_mb(server.pid)
            units: list[int] = []
            result = drive(client, bodies, args.concurrency, args.seconds, units)
            time.sleep(3)  # the detections log is written off the request path
            rss_after = rss_mb(server.pid)
            logged = logged_detections(settings) - before_detections
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = result["latencies"]
    summary = {
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "successes": len(latencies),
        "throttles": result["throttles"]["count"],
        "throttles_with_retry_after": result["throttles"]["with_retry_after"],
        "other_errors": result["errors"],
        "p50_ms": 1000 * float(np.percentile(latencies, 50)) if latencies else None,
        "p99_ms": 1000 * float(np.percentile(latencies, 99)) if latencies else None,
        "units_sampled": sorted(set(units)),
        "units_max": max(units) if units else None,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
        "detections_logged": logged,
        "targets_met": {
            "no_other_errors": not result["errors"],
            "retry_after_on_every_throttle": result["throttles"]["count"] == result["throttles"]["with_retry_after"],
            "flat_memory": rss_after <= 1.25 * rss_before,
            "log_matches_successes": logged == len(latencies),
        },
    }
    print(
        "| successes | throttles (Retry-After) | other errors | p50 ms | p99 ms | units | RSS MB before/after | logged |"
    )
    print("|---:|---:|---|---:|---:|---|---:|---:|")
    print(
        f"| {summary['successes']} | {summary['throttles']} ({summary['throttles_with_retry_after']}) | "
        f"{summary['other_errors'] or 0} | {summary['p50_ms']:.1f} | {summary['p99_ms']:.1f} | "
        f"{summary['units_sampled']} | {summary['rss_mb_before']}/{summary['rss_mb_after']} | {logged} |"
    )
    print(json.dumps(summary["targets_met"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

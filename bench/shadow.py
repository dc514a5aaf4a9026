"""Shadow-mode benchmark: live DetectAnomalies latency with and without a shadow model running beside it.

    .venv/bin/python bench/shadow.py --json bench-shadow.json

One run trains a model, registers it twice (versions 1 and 2: the shadow costs as much as the live model, the worst
case of a same-size candidate), hosts both in a fresh server process (the live one on one unit with a thread per core,
the candidate with one thread per unit, so one copy at a time takes one core) and measures DetectAnomalies
at each concurrency: first with version 2 hosted but idle, then with version 2 in the shadow of version 1 (every
request copied). The table shows the live p50/p99 of both and how much shadow work ran and was dropped.

Target: with a shadow, live p50 within 10 % and p99 within 25 % of the run without (shadow work is shed when the
live model has requests waiting); no errors. Server setup comes from `bench/serving_server.py`, model training from
`bench/serving.py`.
"""

import argparse
import configparser
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import load, summary, train_model
from bench.serving_server import PROJECT, free_port, register_model, start_server, wait_hosted
from sdk.boto import boto3_client
from service.settings import Settings


def client_for(home: Path, port: int) -> Any:
    credentials = configparser.ConfigParser()
    credentials.read(Settings(home=home).keys_file)
    profile = credentials["openlv"]
    return boto3_client(
        f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=profile["aws_access_key_id"],
        aws_secret_access_key=profile["aws_secret_access_key"],
        config=Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64, read_timeout=120),
    )


def measure(client: Any, bodies: list[bytes], concurrency: int, requests: int, name: str) -> dict[str, Any]:
    def call(body: bytes) -> None:
        client.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")

    load(call, bodies, concurrency, 2 * concurrency)
    result = load(call, bodies, concurrency, requests)
    return summary(
        name,
        result["latencies"],
        result["seconds"],
        len(result["latencies"]),
        concurrency=concurrency,
        errors=result["errors"],
    )


def run(home: Path, folder: Path, bodies: list[bytes], requests: int, concurrencies: list[int]) -> list[dict[str, Any]]:
    port = free_port()
    server = start_server(home, port)
    try:
        client = client_for(home, port)
        client.create_project(ProjectName=PROJECT)
        cores = Settings().hosting_cpu_cores
        for version in (1, 2):
            register_model(home, folder, version)
        client.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1)
        # The candidate's units get cores // MaxInferenceUnits threads: one thread, so a copy takes one core at most.
        client.start_model(ProjectName=PROJECT, ModelVersion="2", MinInferenceUnits=1, MaxInferenceUnits=cores)
        for version in ("1", "2"):
            wait_hosted(client, version)
        rows = [measure(client, bodies, c, requests, f"live alone, c={c}") for c in concurrencies]
        client.start_shadow_model(ProjectName=PROJECT, ModelVersion="2", LiveModelVersion="1")
        for concurrency in concurrencies:
            before = client.describe_shadow_comparison(ProjectName=PROJECT, ModelVersion="1", MaxDisagreements=0)
            row = measure(client, bodies, concurrency, requests, f"live with shadow, c={concurrency}")
            time.sleep(0.5)
            after = client.describe_shadow_comparison(ProjectName=PROJECT, ModelVersion="1", MaxDisagreements=0)
            row["shadow_runs"] = after["Compared"] - before["Compared"]
            row["shadow_dropped"] = after["ShadowModel"]["Dropped"] - before["ShadowModel"]["Dropped"]
            row["shadow_p50_ms"] = after["Shadow"].get("LatencyP50Millis")
            rows.append(row)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| run | live p50 ms | live p99 ms | images/s | shadow runs | shadow dropped | errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        errors = ", ".join(f"{code}: {count}" for code, count in row["errors"].items()) or "0"
        lines.append(
            f"| {row['name']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['images_per_s']:.1f} | "
            f"{row.get('shadow_runs', '-')} | {row.get('shadow_dropped', '-')} | {errors} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]], concurrencies: list[int]) -> dict[str, Any]:
    alone = {row["concurrency"]: row for row in rows[: len(concurrencies)]}
    shadowed = {row["concurrency"]: row for row in rows[len(concurrencies) :]}
    found: dict[str, Any] = {}
    for concurrency in concurrencies:
        p50 = shadowed[concurrency]["p50_ms"] / alone[concurrency]["p50_ms"]
        p99 = shadowed[concurrency]["p99_ms"] / alone[concurrency]["p99_ms"]
        found[f"c{concurrency}_p50_ratio"] = p50
        found[f"c{concurrency}_p99_ratio"] = p99
        found[f"c{concurrency}_target_met"] = p50 <= 1.10 and p99 <= 1.25
    found["errors"] = sum(sum(row["errors"].values()) for row in rows)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="padim", help="registered model to serve (default: padim)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--dataset", type=Path, help="an MVTec-layout folder (default: synthetic images)")
    parser.add_argument("--requests", type=int, default=80, help="measured requests per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4], help="concurrency levels")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lv-bench-shadow-") as scratch:
        work = Path(scratch)
        folder, bodies = train_model(work, args.model, args.image_size, args.dataset)
        rows = run(work / "home", folder, bodies, args.requests, args.concurrency)
    result = {
        "model": args.model,
        "image_size": args.image_size,
        "cores": Settings().hosting_cpu_cores,
        "rows": rows,
        "verdicts": verdicts(rows, args.concurrency),
        "platform": {"python": sys.version.split()[0], "cpu_count": os.cpu_count()},
    }
    print(table(rows))
    print(json.dumps(result["verdicts"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

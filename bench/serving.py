"""Serving benchmark: DetectAnomalies through HTTP (boto3, SigV4-signed) against the raw inferencer on the same model.

    .venv/bin/python bench/serving.py --json bench-serving.json

One run trains a model with the engine (weights do not change serving cost, so a few steps suffice), registers it as a
TRAINED model version of a fresh server started in its own process, and measures:

* raw: `OnnxInferencer` with one thread per core: `predict_image` one request at a time (decode, graph,
  post-processing), and `predict` on batches of 16 decoded images (the graph alone, the strictest baseline);
* service: DetectAnomalies at concurrency 1 (one inference unit, all cores), then 4 and 16 (two units, one core each).

Targets: service overhead at concurrency 1 <= 15% of the raw model time (p50); throughput at concurrency 16 with two
units >= 90% of the raw batch throughput; no error other than throttling.
"""

import argparse
import configparser
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdk.boto import boto3_client
from service.db.engine import build_engine, transaction
from service.db.models import Model, Project
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.engine import artifacts
from service.engine.data import mvtec_records
from service.engine.inference import OnnxInferencer, to_rgb_array
from service.engine.inference.layout import ONNX_FILE
from service.engine.synthetic import make_synthetic_dataset
from service.engine.training import fit
from service.settings import Settings
from service.storage import build_store

PROJECT = "serving-bench"
BATCH = 16


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summary(name: str, latencies: list[float], seconds: float, images: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "p50_ms": 1000 * percentile(latencies, 50) if latencies else None,
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else None,
        "images_per_s": images / seconds,
        **extra,
    }


def train_model(work: Path, model_name: str, image_size: int, dataset: Path | None) -> tuple[Path, list[bytes]]:
    root = dataset or make_synthetic_dataset(work / "data", kind="texture", size=image_size, n_train=16)
    train, test = mvtec_records(root, "train")[:32], mvtec_records(root, "test")[:32]
    steps = {"max_steps": 2} if model_name == "draem" else {}
    trained = fit(
        model_name,
        train,
        test,
        hyperparameters={"image_size": image_size, **steps},
        weights="random",
        accelerator="cpu",
    )
    folder = artifacts.save(trained, work / "model")
    bodies = [Path(record.image).read_bytes() for record in test[:16] if isinstance(record.image, Path)]
    return folder, bodies


def measure_raw(folder: Path, bodies: list[bytes], requests: int, cores: int) -> list[dict[str, Any]]:
    inferencer = OnnxInferencer(folder / ONNX_FILE, cores)
    for body in bodies[:4]:
        inferencer.predict_image(body)
    latencies = []
    started = time.perf_counter()
    for index in range(requests):
        begin = time.perf_counter()
        inferencer.predict_image(bodies[index % len(bodies)])
        latencies.append(time.perf_counter() - begin)
    single = summary("raw predict_image", latencies, time.perf_counter() - started, requests, concurrency=1)
    pixels = [to_rgb_array(body) for body in bodies]
    batch = np.stack([pixels[index % len(pixels)] for index in range(BATCH)])
    inferencer.run(batch)
    rounds = max(2, requests // BATCH)
    batch_latencies = []
    started = time.perf_counter()
    for _ in range(rounds):
        begin = time.perf_counter()
        inferencer.run(batch)
        batch_latencies.append(time.perf_counter() - begin)
    batched = summary(
        f"raw batch of {BATCH} (graph only)", batch_latencies, time.perf_counter() - started, rounds * BATCH
    )
    return [single, batched]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from pathlib import Path; from service.app import create_app; "
        "from service.settings import Settings; "
        f"uvicorn.run(create_app(Settings(home=Path({str(home)!r}))), host='127.0.0.1', port={port}, "
        "log_level='warning')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the openlv server did not start")


def register_model(home: Path, folder: Path, version: int) -> None:
    """Put the saved model where training would and record it as a TRAINED version (what CreateModel ends with)."""
    settings = Settings(home=home)
    store = build_store(settings)
    prefix = f"models/{PROJECT}/{uuid.uuid4().hex}/"
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            store.put(prefix + ARTIFACTS_FOLDER + path.relative_to(folder).as_posix(), path.read_bytes())
    engine = build_engine(settings.resolved_database_url)
    with transaction(engine) as session:
        project = session.exec(select(Project).where(Project.name == PROJECT)).one()
        assert project.id is not None
        session.add(
            Model(project_id=project.id, version=version, status="TRAINED", algorithm="bench", artifacts_prefix=prefix)
        )
    engine.dispose()


def wait_hosted(client: Any, version: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.describe_model(ProjectName=PROJECT, ModelVersion=version)["ModelDescription"]["Status"]
        if status == "HOSTED":
            return
        if status == "HOSTING_FAILED":
            raise RuntimeError("hosting failed")
        time.sleep(0.2)
    raise RuntimeError("the model was not hosted in time")


def load(call: Callable[[bytes], None], bodies: list[bytes], concurrency: int, requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        for index in counter:
            begin = time.perf_counter()
            try:
                call(bodies[index % len(bodies)])
            except ClientError as error:
                code = error.response["Error"]["Code"]
                with lock:
                    errors[code] = errors.get(code, 0) + 1
                continue
            with lock:
                latencies.append(time.perf_counter() - begin)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {"latencies": latencies, "seconds": seconds, "errors": errors}


def measure_service(
    home: Path, folder: Path, bodies: list[bytes], requests: int, concurrencies: list[int]
) -> list[dict[str, Any]]:
    port = free_port()
    server = start_server(home, port)
    try:
        credentials = configparser.ConfigParser()
        credentials.read(Settings(home=home).keys_file)
        profile = credentials["openlv"]
        client = boto3_client(
            f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id=profile["aws_access_key_id"],
            aws_secret_access_key=profile["aws_secret_access_key"],
            config=Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64, read_timeout=120),
        )
        client.create_project(ProjectName=PROJECT)
        register_model(home, folder, 1)
        rows = []
        for concurrency in concurrencies:
            units = 1 if concurrency == 1 else 2
            client.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=units, MaxInferenceUnits=units)
            wait_hosted(client, "1")

            def call(body: bytes) -> None:
                client.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")

            load(call, bodies, concurrency, 4 * concurrency)
            result = load(call, bodies, concurrency, requests * max(1, concurrency // 2))
            rows.append(
                summary(
                    f"service c={concurrency}, {units} unit(s)",
                    result["latencies"],
                    result["seconds"],
                    len(result["latencies"]),
                    concurrency=concurrency,
                    units=units,
                    errors=result["errors"],
                )
            )
            client.stop_model(ProjectName=PROJECT, ModelVersion="1")
            while (
                client.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]["Status"] != "TRAINED"
            ):
                time.sleep(0.1)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure_on_ray(home: Path, folder: Path, bodies: list[bytes], requests: int, cores: int) -> list[dict[str, Any]]:
    from bench.serving_ray import ray_environment

    with ray_environment(cores):
        rows = measure_service(home, folder, bodies, requests, [1, 4, 16])
    return [{**row, "name": f"ray {row['name']}"} for row in rows]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| run | p50 ms | p99 ms | images/s | errors |", "|---|---:|---:|---:|---|"]
    for row in rows:
        errors = ", ".join(f"{code}: {count}" for code, count in (row.get("errors") or {}).items()) or "0"
        lines.append(
            f"| {row['name']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['images_per_s']:.1f} | {errors} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    raw_single, raw_batch = rows[0], rows[1]
    by_concurrency = {row["concurrency"]: row for row in rows[2:]}
    overhead = by_concurrency[1]["p50_ms"] / raw_single["p50_ms"] - 1
    share = by_concurrency[16]["images_per_s"] / raw_batch["images_per_s"]
    other_errors = sum(
        count for row in rows[2:] for code, count in row["errors"].items() if code != "ThrottlingException"
    )
    return {
        "overhead_c1": overhead,
        "overhead_c1_target_met": overhead <= 0.15,
        "throughput_c16_vs_raw_batch": share,
        "throughput_target_met": share >= 0.90,
        "errors_other_than_throttling": other_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="draem", help="registered model to serve (default: draem)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--dataset", type=Path, help="an MVTec-layout folder (default: synthetic images)")
    parser.add_argument("--requests", type=int, default=60, help="requests per concurrency level (x c/2 above 2)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--executor", choices=["embedded", "ray"], default="embedded", help="ray: also measure LV_EXECUTOR=ray"
    )
    args = parser.parse_args()
    cores = Settings().hosting_cpu_cores
    with tempfile.TemporaryDirectory(prefix="lv-bench-serving-") as scratch:
        work = Path(scratch)
        folder, bodies = train_model(work, args.model, args.image_size, args.dataset)
        rows = measure_raw(folder, bodies, args.requests, cores)
        rows += measure_service(work / "home", folder, bodies, args.requests, [1, 4, 16])
        ray_rows = (
            measure_on_ray(work / "home-ray", folder, bodies, args.requests, cores) if args.executor == "ray" else []
        )
    result = {
        "model": args.model,
        "image_size": args.image_size,
        "cores": cores,
        "rows": rows,
        "verdicts": verdicts(rows),
        "ray_rows": ray_rows,
        "platform": {"python": sys.version.split()[0], "cpu_count": os.cpu_count()},
    }
    print(table(rows + ray_rows))
    if ray_rows:
        from bench.serving_ray import side_by_side

        print(side_by_side(rows[2:], ray_rows))
    print(json.dumps(result["verdicts"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Serving benchmark: DetectAnomalies through HTTP against the raw inferencer and a torch-eager FastAPI endpoint, in one
run on one machine.

    nice -n 10 .venv/bin/python bench/serving.py --json bench-serving.json [--py-spy profile.json]

One run trains a model with the engine (weights do not change serving cost, so a few steps suffice), registers it as a
TRAINED model version of a fresh server started in its own process (uvicorn on httptools and uvloop, as `lv server`),
and measures:

* raw: `OnnxInferencer` with one thread per core: `predict_image` one request at a time (decode, graph,
  post-processing) with its CPU ms per image (process time, on a session whose threads spin as a hosting unit's do;
  the other spinning modes' figures beside it), and `predict` on batches of 16 decoded images (the graph alone, the
  strictest baseline);
* torch eager: the same model in torch eager behind a plain FastAPI endpoint (`bench/serving_eager.py`), c=1, a
  quarter of the requests (it is the slowest row);
* service (ONNX Runtime): DetectAnomalies at concurrency 1 (one unit, all cores), then 4 and 16 (two units, one core
  each), sent by the lean load generator (`bench/serving_load.py`: signed and serialised ahead, answers parsed by
  httptools), plus one boto3 row at c=1 (the user's view). Each row has the server's CPU ms per request (its /proc CPU
  time over the run); the c=1 run's Server-Timing headers give the per-stage breakdown;
* service (OpenVINO, LV_HOSTING_RUNTIME=openvino), c=1.

The c=1 latency and CPU figures come from a paired run (`bench/serving_paired.py`): blocks of raw `predict_image`
calls and of DetectAnomalies requests alternate, so both sides see the same drift of the shared machine's speed.

Targets (issue 12): service p50 at c=1 <= 1.15x raw predict_image p50 (paired); service images/s at c=16 with 2 units >= 0.9x
raw batch images/s; server CPU ms per request <= 1.2x raw CPU ms per image; no error other than throttling. The
report (`bench/serving_report.py`) prints the tables and writes them with a pass/fail per target to --json.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import numpy as np
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving_eager import start_eager_server
from bench.serving_load import process_cpu_seconds, send, sign_requests
from bench.serving_paired import (
    C16_BATCHES_PER_ROUND,
    C16_ROUNDS,
    SETTLE_S,
    RawInferencers,
    paired_c1,
    paired_c16,
    paired_ratio,
    paired_throughput_ratio,
)
from bench.serving_report import (
    PAIRED_C16,
    paired_table,
    stage_breakdown,
    stage_table,
    table,
    verdict_table,
    verdicts,
)
from bench.serving_server import PROJECT, boto3_for, free_port, host, register_model, start_server, unhost
from service.engine import artifacts
from service.engine.data import mvtec_records
from service.engine.inference import OnnxInferencer, to_rgb_array
from service.engine.inference.layout import ONNX_FILE
from service.engine.inference.onnx import Spinning
from service.engine.synthetic import make_synthetic_dataset
from service.engine.training import fit
from service.hosting.predictor import HOSTING_SPINNING
from service.settings import Settings

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


def _raw_cpu_ms_per_image(inferencer: OnnxInferencer, bodies: list[bytes], requests: int) -> float:
    began = time.process_time()
    for index in range(requests):
        inferencer.predict_image(bodies[index % len(bodies)])
    return 1000 * (time.process_time() - began) / requests


def raw_cpu_by_spinning(folder: Path, bodies: list[bytes], requests: int, cores: int) -> dict[str, float]:
    """predict_image's CPU ms per image with each ONNX Runtime spinning mode (a warmed session each)."""
    figures = {}
    for spinning in get_args(Spinning):
        time.sleep(SETTLE_S)
        inferencer = OnnxInferencer(folder / ONNX_FILE, cores, spinning=spinning)
        _raw_cpu_ms_per_image(inferencer, bodies, 4)
        figures[spinning] = _raw_cpu_ms_per_image(inferencer, bodies, requests)
    return figures


def measure_raw(folder: Path, bodies: list[bytes], requests: int, cores: int) -> list[dict[str, Any]]:
    """predict_image one at a time (p50 on ORT's default session; CPU ms per image on a session that spins as the
    hosting units do, `HOSTING_SPINNING`, so the CPU ratio is the service's own cost, with the other modes' figures
    beside it), and the graph on batches of 16."""
    inferencer = OnnxInferencer(folder / ONNX_FILE, cores)
    for body in bodies[:4]:
        inferencer.predict_image(body)
    latencies = []
    started = time.perf_counter()
    for index in range(requests):
        begin = time.perf_counter()
        inferencer.predict_image(bodies[index % len(bodies)])
        latencies.append(time.perf_counter() - begin)
    seconds = time.perf_counter() - started
    by_spinning = raw_cpu_by_spinning(folder, bodies, requests, cores)
    single = summary(
        "raw predict_image",
        latencies,
        seconds,
        requests,
        concurrency=1,
        cpu_ms_per_image=by_spinning[HOSTING_SPINNING],
        cpu_ms_per_image_by_spinning=by_spinning,
    )
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


def best_of(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """A raw row measured before and after the service rows, each figure the better of the two (on a shared machine
    the baseline is then the strictest the run saw)."""
    best = dict(before)
    for name, pick in (("p50_ms", min), ("p99_ms", min), ("images_per_s", max), ("cpu_ms_per_image", min)):
        if before.get(name) is not None and after.get(name) is not None:
            best[name] = pick(before[name], after[name])
    return best


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


def lean_row(
    name: str, pid: int, port: int, path: str, bodies: list[bytes], concurrency: int, count: int, credentials: Any
) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """One row from the lean load generator: latency, throughput and the server's CPU ms per request."""
    send(port, sign_requests(port, path, bodies, 4 * concurrency, credentials), concurrency)
    prepared = sign_requests(port, path, bodies, count, credentials)
    cpu_before = process_cpu_seconds(pid)
    result = send(port, prepared, concurrency)
    cpu_ms = 1000 * (process_cpu_seconds(pid) - cpu_before) / max(1, len(result.latencies))
    row = summary(
        name,
        result.latencies,
        result.seconds,
        len(result.latencies),
        concurrency=concurrency,
        errors=result.errors,
        cpu_ms_per_image=cpu_ms,
    )
    return row, result.stages


def measure_service(
    home: Path,
    folder: Path,
    bodies: list[bytes],
    requests: int,
    *,
    runtime: str = "onnxruntime",
    py_spy: Path | None = None,
    paired_with: RawInferencers | None = None,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, float]]]:
    """The service rows (c=1 lean and boto3, c=4 and c=16 with two units; only c=1 for OpenVINO) and the c=1
    Server-Timing stages; with `paired_with` (the raw inferencers), also the paired c=1 figures (`serving_paired`),
    whose requests then give the stages."""
    port = free_port()
    server = start_server(home, port, {"LV_HOSTING_RUNTIME": runtime})
    label = "ONNX Runtime" if runtime == "onnxruntime" else "OpenVINO"
    path = f"/2020-11-20/projects/{PROJECT}/models/1/detect"
    rows: dict[str, dict[str, Any]] = {}
    try:
        client, credentials = boto3_for(home, port)
        client.create_project(ProjectName=PROJECT)
        register_model(home, folder, 1)
        host(client, 1)
        with profiled(server.pid, py_spy):
            row, stages = lean_row(
                f"service ({label}) c=1, 1 unit", server.pid, port, path, bodies, 1, requests, credentials
            )
        rows["service_c1" if runtime == "onnxruntime" else f"service_{runtime}_c1"] = row
        if paired_with is not None:
            prepared = sign_requests(port, path, bodies, 2 * requests, credentials)
            run = paired_c1(paired_with, bodies, port, server.pid, prepared)
            rows["paired_c1"], stages = paired_ratio(run), run.stages
        if runtime == "onnxruntime":
            rows["service_c1_boto3"] = boto3_row(client, server.pid, bodies, requests)
            unhost(client)
            host(client, 2)
            for concurrency in (4, 16):
                count = requests * max(1, concurrency // 2)
                rows[f"service_c{concurrency}"], _ = lean_row(
                    f"service ({label}) c={concurrency}, 2 units",
                    server.pid,
                    port,
                    path,
                    bodies,
                    concurrency,
                    count,
                    credentials,
                )
            if paired_with is not None:
                rows["paired_c16"] = paired_throughput(paired_with, bodies, port, server.pid, path, credentials)
        return rows, stages
    finally:
        server.terminate()
        server.wait(timeout=30)


def paired_throughput(
    raw: RawInferencers, bodies: list[bytes], port: int, pid: int, path: str, credentials: Any
) -> dict[str, Any]:
    """The c=16 figure as pairs: raw batches of 16 on the latency session (`cores` threads, as the raw batch row)
    alternating with DetectAnomalies blocks at c=16 (`serving_paired.paired_c16`)."""
    pixels = [to_rgb_array(body) for body in bodies]
    batch = np.stack([pixels[index % len(pixels)] for index in range(BATCH)])
    raw.latency.run(batch)
    prepared = sign_requests(port, path, bodies, C16_ROUNDS * C16_BATCHES_PER_ROUND * BATCH, credentials)
    return paired_throughput_ratio(paired_c16(raw.latency, batch, port, pid, prepared))


def measure_on_ray(home: Path, folder: Path, bodies: list[bytes], requests: int, cores: int) -> dict[str, Any]:
    """The same service rows with LV_EXECUTOR=ray (a local cluster, PostgreSQL and S3), keyed `ray_<row>`."""
    from bench.serving_ray import ray_environment

    with ray_environment(cores):
        rows, _ = measure_service(home, folder, bodies, requests)
    return {f"ray_{key}": {**row, "name": f"ray {row['name']}"} for key, row in rows.items()}


def boto3_row(client: Any, pid: int, bodies: list[bytes], requests: int) -> dict[str, Any]:
    def call(body: bytes) -> None:
        client.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")

    load(call, bodies, 1, 4)
    cpu_before = process_cpu_seconds(pid)
    result = load(call, bodies, 1, requests)
    cpu_ms = 1000 * (process_cpu_seconds(pid) - cpu_before) / max(1, len(result["latencies"]))
    return summary(
        "service (ONNX Runtime) c=1, 1 unit, boto3 client",
        result["latencies"],
        result["seconds"],
        len(result["latencies"]),
        concurrency=1,
        errors=result["errors"],
        cpu_ms_per_image=cpu_ms,
    )


def measure_eager(folder: Path, bodies: list[bytes], requests: int, cores: int) -> dict[str, Any]:
    port = free_port()
    server = start_eager_server(folder, port, cores)
    try:
        row, _ = lean_row(
            "torch eager behind plain FastAPI c=1", server.pid, port, "/predict", bodies, 1, requests, None
        )
        return row
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def profiled(pid: int, output: Path | None) -> Iterator[None]:
    """A py-spy profile (speedscope JSON) of the server while the block runs, when asked and py-spy is installed."""
    executable = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if output is None or not Path(executable).exists():
        if output is not None:
            print("py-spy is not installed (pip install py-spy); no profile recorded", file=sys.stderr)
        yield
        return
    recorder = subprocess.Popen(
        [executable, "record", "--pid", str(pid), "--format", "speedscope", "--output", str(output), "--nonblocking"]
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


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
    parser.add_argument("--py-spy", type=Path, help="record a py-spy profile of the server at c=1 here (speedscope)")
    args = parser.parse_args()
    cores = Settings().hosting_cpu_cores
    with tempfile.TemporaryDirectory(prefix="lv-bench-serving-") as scratch:
        work = Path(scratch)
        folder, bodies = train_model(work, args.model, args.image_size, args.dataset)
        raw_before = measure_raw(folder, bodies, args.requests, cores)
        eager = measure_eager(folder, bodies, max(8, args.requests // 4), cores)
        paired_with = RawInferencers.of(folder / ONNX_FILE, cores, bodies)
        service, stages = measure_service(
            work / "home", folder, bodies, args.requests, py_spy=args.py_spy, paired_with=paired_with
        )
        openvino, _ = measure_service(work / "home-openvino", folder, bodies, args.requests, runtime="openvino")
        ray_rows = (
            measure_on_ray(work / "home-ray", folder, bodies, args.requests, cores) if args.executor == "ray" else {}
        )
        raw_after = measure_raw(folder, bodies, args.requests, cores)
        rows = {
            "raw_single": best_of(raw_before[0], raw_after[0]),
            "raw_batch": best_of(raw_before[1], raw_after[1]),
            "torch_eager_c1": eager,
            **service,
            **openvino,
        }
        paired, paired_c16_row = rows.pop("paired_c1"), rows.pop("paired_c16")
    breakdown = stage_breakdown(stages)
    result = {
        "model": args.model,
        "image_size": args.image_size,
        "cores": cores,
        "rows": rows,
        "stages_ms_c1": breakdown,
        "paired_c1": paired,
        "paired_c16": paired_c16_row,
        "verdicts": verdicts(rows, paired, paired_c16_row),
        "ray_rows": ray_rows,
        "load_average": os.getloadavg(),
        "platform": {"python": sys.version.split()[0], "cpu_count": os.cpu_count()},
    }
    print(table(list(rows.values()) + list(ray_rows.values())))
    if ray_rows:
        from bench.serving_ray import side_by_side

        print()
        print(side_by_side(rows, ray_rows))
    print()
    print(paired_table(paired))
    print()
    print(paired_table(paired_c16_row, PAIRED_C16))
    print()
    print(stage_table(breakdown, paired["service_p50_ms"]))
    print()
    print(verdict_table(result["verdicts"]))
    print(f"load average (1, 5, 15 min): {' '.join(f'{value:.2f}' for value in result['load_average'])}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

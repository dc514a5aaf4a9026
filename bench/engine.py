"""Engine benchmark: fit time, peak memory, accuracy and inference speed (torch eager, ONNX Runtime, OpenVINO) for
every model on a synthetic dataset and on any MVTec AD layout folders.

    .venv/bin/python bench/engine.py --datasets synthetic ../shared/datasets/magnetic_tile --max-train 200 \
        --max-test 100 --json bench-engine.json

Each (dataset, model) pair runs in a fresh process, so its peak RSS (VmHWM) covers that model alone: `fit RSS` is
the peak up to the end of training and validation, `RSS` the peak over the whole run including export and inference. Backbones use cached ImageNet weights when present, random ones otherwise
(timings are still representative; accuracy then is not).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from service.engine import artifacts
from service.engine.backbones import imagenet_weights_available
from service.engine.data import ImageRecord, load_rgb, mvtec_records
from service.engine.export import export_pipeline
from service.engine.inference import OnnxInferencer, OpenVinoInferencer
from service.engine.inference.layout import ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE
from service.engine.registry import get_spec, list_models, parse_hyperparameters
from service.engine.synthetic import make_synthetic_dataset
from service.engine.training import TrainedModel, fit
from service.settings import Settings

SYNTHETIC = "synthetic"
WEIGHTS = Settings()
"""The service's weights folder and mirror (LV_WEIGHTS_DIR / LV_HOME, LV_WEIGHTS_BASE_URL), read once."""
TARGETS = {
    "patchcore ORT batch-1 latency (ms)": ("patchcore", "latency_ms.onnx", "<=", 50.0),
    "patchcore fit time (s)": ("patchcore", "fit_seconds", "<=", 60.0),
    "patchcore peak RSS during fit (MB)": ("patchcore", "peak_rss_mb_fit", "<=", 3072.0),
    "patchcore ORT speed-up over torch eager": ("patchcore", "onnx_speedup", ">=", 1.5),
}


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM missing from /proc/self/status")


def evenly(items: Sequence[ImageRecord], limit: int | None) -> list[ImageRecord]:
    """At most `limit` items spread evenly over the sequence (deterministic)."""
    if limit is None or len(items) <= limit:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, limit).round()]


def stratified(records: Sequence[ImageRecord], limit: int | None) -> list[ImageRecord]:
    """At most `limit` test records, keeping the normal/anomalous proportion (and at least one of each)."""
    if limit is None or len(records) <= limit:
        return list(records)
    normal = [r for r in records if r.label == 0]
    anomalous = [r for r in records if r.label == 1]
    normal_share = max(1, min(limit - 1, round(limit * len(normal) / len(records))))
    return evenly(normal, normal_share) + evenly(anomalous, limit - normal_share)


def dataset_records(
    dataset: str, work: Path, max_train: int | None, max_test: int | None, synthetic_size: int
) -> tuple[str, list[ImageRecord], list[ImageRecord]]:
    if dataset == SYNTHETIC:
        root = work / SYNTHETIC
        if not root.exists():
            make_synthetic_dataset(
                root, kind="texture", n_train=60, n_test_good=20, n_test_defect=20, size=synthetic_size
            )
    else:
        root = Path(dataset)
    return root.name, evenly(mvtec_records(root, "train"), max_train), stratified(mvtec_records(root, "test"), max_test)


def time_calls(run: Callable[[np.ndarray], Any], batch: np.ndarray, repeats: int, warmup: int = 2) -> float:
    """Median seconds per `run(batch)` call."""
    for _ in range(warmup):
        run(batch)
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(batch)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def inference_inputs(records: Sequence[ImageRecord], size: int) -> np.ndarray:
    """Eight test images at the model's input size, uint8 (8, S, S, 3)."""
    chosen = [records[i % len(records)] for i in range(8)]
    return np.stack([np.asarray(load_rgb(r.image).resize((size, size), Image.BILINEAR)) for r in chosen])


def speeds(
    trained: TrainedModel, folder: Path, images: np.ndarray, threads: int, repeats: int
) -> dict[str, dict[str, float]]:
    pipeline = export_pipeline(trained)

    def eager(batch: np.ndarray) -> Any:
        with torch.inference_mode():
            return pipeline(torch.from_numpy(batch))

    runners = {
        "torch": eager,
        "onnx": OnnxInferencer(folder / ONNX_FILE, threads=threads).predict,
        "openvino": OpenVinoInferencer(folder / OPENVINO_DIR / OPENVINO_FILE, threads=threads).predict,
    }
    latency, throughput = {}, {}
    for name, run in runners.items():
        latency[name] = 1000 * time_calls(run, images[:1], repeats)
        throughput[name] = len(images) / time_calls(run, images, max(3, repeats // 4))
    return {"latency_ms": latency, "throughput_ips": throughput}


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One (dataset, model) measurement; runs in its own process."""
    torch.set_num_threads(job["threads"])
    name, train, test = dataset_records(
        job["dataset"], Path(job["work"]), job["max_train"], job["max_test"], job["image_size"]
    )
    hyperparameters = {"image_size": job["image_size"], **job["hyperparameters"].get(job["model"], {})}
    weights = None
    if get_spec(job["model"]).needs_pretrained:
        backbone = getattr(parse_hyperparameters(job["model"], hyperparameters), "backbone", "")
        weights = "imagenet" if imagenet_weights_available(backbone, WEIGHTS.resolved_weights_dir) else "random"
    started, cpu_started = time.perf_counter(), time.process_time()
    trained = fit(
        job["model"],
        train,
        test,
        hyperparameters=hyperparameters,
        weights=weights,
        weights_dir=WEIGHTS.resolved_weights_dir,
        weights_base_url=WEIGHTS.weights_base_url,
        accelerator="cpu",
    )
    fit_seconds = time.perf_counter() - started
    # CPU seconds of every thread of this process: what a fit costs in core time, whatever else shares the machine.
    fit_cpu_seconds = time.process_time() - cpu_started
    fit_rss = peak_rss_mb()
    with tempfile.TemporaryDirectory(dir=job["work"]) as scratch:
        started = time.perf_counter()
        folder = artifacts.save(trained, Path(scratch) / "model")
        export_seconds = time.perf_counter() - started
        measured = speeds(trained, folder, inference_inputs(test, job["image_size"]), job["threads"], job["repeats"])
    metrics = trained.evaluation.metrics
    return {
        "dataset": name,
        "model": job["model"],
        "weights": weights,
        "train_images": len(train),
        "test_images": len(test),
        "image_size": job["image_size"],
        "threads": job["threads"],
        "fit_seconds": round(fit_seconds, 2),
        "fit_cpu_seconds": round(fit_cpu_seconds, 2),
        "export_seconds": round(export_seconds, 2),
        "peak_rss_mb_fit": round(fit_rss, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **{key: metrics.get(key) for key in ("image_auroc", "average_precision", "f1", "pixel_auroc", "aupro")},
        **measured,
        "onnx_speedup": round(measured["latency_ms"]["torch"] / measured["latency_ms"]["onnx"], 2),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = [
        ("dataset", lambda r: r["dataset"]),
        ("model", lambda r: r["model"]),
        ("train", lambda r: r["train_images"]),
        ("fit s", lambda r: r["fit_seconds"]),
        ("fit CPU s", lambda r: r["fit_cpu_seconds"]),
        ("fit RSS MB", lambda r: r["peak_rss_mb_fit"]),
        ("RSS MB", lambda r: r["peak_rss_mb"]),
        ("AUROC", lambda r: r["image_auroc"]),
        ("pixAUROC", lambda r: r["pixel_auroc"]),
        ("AUPRO", lambda r: r["aupro"]),
        *[(f"{rt} ms", lambda r, rt=rt: r["latency_ms"][rt]) for rt in ("torch", "onnx", "openvino")],
        *[(f"{rt} img/s", lambda r, rt=rt: r["throughput_ips"][rt]) for rt in ("torch", "onnx", "openvino")],
    ]
    table = [[title for title, _ in columns]] + [[_cell(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def check_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The project's speed and memory targets, checked on every dataset's row of the model they are about."""
    results = []
    for label, (model, key, relation, limit) in TARGETS.items():
        for row in (r for r in rows if r["model"] == model):
            value = row
            for part in key.split("."):
                value = value[part]
            met = value <= limit if relation == "<=" else value >= limit
            results.append({"target": label, "dataset": row["dataset"], "value": value, "limit": limit, "met": met})
            print(
                f"{'PASS' if met else 'MISS'}  {label} on {row['dataset']}: {_cell(value)} (target {relation} {limit})"
            )
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=[SYNTHETIC], help="'synthetic' and/or MVTec-layout folders")
    parser.add_argument("--models", nargs="+", default=None, help="registered model names (default: all)")
    parser.add_argument("--max-train", type=int, default=None, help="subsample training images (evenly)")
    parser.add_argument("--max-test", type=int, default=None, help="subsample test images (stratified)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2, help="torch, ONNX Runtime and OpenVINO threads")
    parser.add_argument("--repeats", type=int, default=20, help="timed batch-1 calls per runtime")
    parser.add_argument(
        "--set", action="append", default=[], metavar="MODEL.NAME=VALUE", help="hyperparameter override (repeatable)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    return parser.parse_args(argv)


def overrides(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`draem.max_steps=500` -> {"draem": {"max_steps": 500}}; values are parsed as JSON where they can be."""
    result: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        target, _, raw = pair.partition("=")
        model, _, name = target.partition(".")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        result.setdefault(model, {})[name] = value
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    models = args.models or [spec.name for spec in list_models()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as work:
        for dataset in args.datasets:
            for model in models:
                job = {
                    "dataset": dataset,
                    "model": model,
                    "work": work,
                    "max_train": args.max_train,
                    "max_test": args.max_test,
                    "image_size": args.image_size,
                    "threads": args.threads,
                    "repeats": args.repeats,
                    "hyperparameters": overrides(args.set),
                }
                # A fresh process per measurement: peak RSS is then this model's alone.
                with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                    row = pool.submit(run_one, job).result()
                print(f"done: {row['dataset']} / {row['model']} in {row['fit_seconds']} s", flush=True)
                rows.append(row)
    print_table(rows)
    targets = check_targets(rows)
    if args.json is not None:
        environment = {"cpu_count": os.cpu_count(), "load_average": os.getloadavg(), "argv": sys.argv[1:]}
        args.json.write_text(json.dumps({"environment": environment, "results": rows, "targets": targets}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Tiling benchmark: detection of few-pixel defects on large synthetic images with and without tiling, then tiled
inference latency and peak memory per megapixel (ONNX Runtime and OpenVINO f32, batch 1) on inputs up to 12 MP.

    .venv/bin/python bench/tiling.py --json bench-tiling.json

Accuracy: `make_small_defect_dataset` (texture images, one pin hole of `--defect-pixels` per anomalous image) and a
small `draem` whose normal-patch memory carries the map, trained on whole images resized to the input size and on
tiles of it. Memory: each (runtime, size) runs in a fresh process, so its peak RSS (VmHWM) is that inference alone.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from service.engine import artifacts
from service.engine.data import mvtec_records
from service.engine.synthetic import make_small_defect_dataset
from service.engine.training import fit

MEGAPIXEL_SIZES = ((1000, 1000), (2000, 2000), (3000, 4000))
SMALL_DRAEM = {
    "image_size": 64,
    "base_channels": 8,
    "depth": 2,
    "batch_size": 16,
    "max_steps": 100,
    "memory_size": 1024,
    "memory_weight": 4.0,
}

_MEASURE = """
import sys, time
from pathlib import Path
import numpy as np
from service.engine.inference import load_inferencer
folder, backend, height, width, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
inferencer = load_inferencer(Path(folder), backend, threads)
rng = np.random.default_rng(0)
image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
inferencer.predict_image(image[:256, :256].copy())
started = time.perf_counter()
detection = inferencer.predict_image(image)
elapsed = time.perf_counter() - started
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        print(elapsed, int(line.split()[1]) / 1024)
"""


def accuracy(root: Path, tile_size: int, overlap: float) -> list[dict[str, Any]]:
    train, test = mvtec_records(root, "train"), mvtec_records(root, "test")
    rows = []
    for label, tiling in (
        ("whole image", {}),
        (f"tiles {tile_size}", {"tile_size": tile_size, "tile_overlap": overlap}),
    ):
        started = time.perf_counter()
        trained = fit("draem", train, test, hyperparameters={**SMALL_DRAEM, **tiling}, accelerator="cpu")
        rows.append(
            {
                "setting": label,
                "fit_seconds": round(time.perf_counter() - started, 1),
                "image_auroc": trained.evaluation.metrics["image_auroc"],
                "pixel_auroc": trained.evaluation.metrics["pixel_auroc"],
                "trained": trained,
            }
        )
    return rows


def memory_per_megapixel(folder: Path, threads: int) -> list[dict[str, Any]]:
    rows = []
    for backend in ("onnx", "openvino"):
        for height, width in MEGAPIXEL_SIZES:
            command = [sys.executable, "-c", _MEASURE, str(folder), backend, str(height), str(width), str(threads)]
            seconds, rss = map(
                float, subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
            )
            megapixels = height * width / 1e6
            rows.append(
                {
                    "runtime": backend,
                    "megapixels": megapixels,
                    "latency_s": round(seconds, 2),
                    "seconds_per_mp": round(seconds / megapixels, 3),
                    "peak_rss_mb": round(rss),
                    "rss_mb_per_mp": round(rss / megapixels, 1),
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="side of the synthetic images")
    parser.add_argument("--defect-pixels", type=int, default=3)
    parser.add_argument("--train", type=int, default=10)
    parser.add_argument("--test", type=int, default=20, help="normal and as many anomalous test images")
    parser.add_argument("--tile-size", type=int, default=64)
    parser.add_argument("--overlap", type=float, default=0.125)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = make_small_defect_dataset(
            Path(scratch) / "data",
            n_train=arguments.train,
            n_test_good=arguments.test,
            n_test_defect=arguments.test,
            size=arguments.size,
            defect_pixels=arguments.defect_pixels,
        )
        rows = accuracy(root, arguments.tile_size, arguments.overlap)
        for row in rows:
            print({key: value for key, value in row.items() if key != "trained"}, flush=True)
        folder = artifacts.save(rows[-1].pop("trained"), Path(scratch) / "tiled")
        rows[0].pop("trained")
        speed = memory_per_megapixel(folder, arguments.threads)
    report = {"settings": vars(arguments) | {"json": str(arguments.json)}, "accuracy": rows, "inference": speed}
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

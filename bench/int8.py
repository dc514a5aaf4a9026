"""INT8 benchmark: per model, the f32 OpenVINO IR against its NNCF INT8 quantisation (the hosting runtimes `openvino`
and `openvino-int8`), both on the CPU in one process: batch-1 latency p50, the speed-up, and image AUROC on the test
set (both graphs' normalised scores), with the drop the service's LV_HOSTING_INT8_MAX_AUROC_DROP (0.01) is checked on.

    nice -n 10 .venv/bin/python bench/int8.py --dataset ../shared/datasets/magnetic_tile --json bench-int8.json

The dataset is read in place. Backbones use cached ImageNet weights when present, random ones otherwise (then AUROC
is not representative of a real model, but f32 and INT8 are still compared on the same one).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine import WEIGHTS, evenly, inference_inputs, stratified
from service.engine import artifacts, metrics
from service.engine.backbones import imagenet_weights_available
from service.engine.data import ImageRecord, load_rgb, mvtec_records
from service.engine.export.quantize import quantize_openvino
from service.engine.inference import OpenVinoInferencer
from service.engine.inference.layout import OPENVINO_DIR, OPENVINO_FILE
from service.engine.registry import get_spec
from service.engine.training import fit

MODELS = ["draem", "patchcore", "padim", "stfpm"]


def p50_ms(inferencer: OpenVinoInferencer, image: np.ndarray, repeats: int) -> float:
    for _ in range(3):
        inferencer.run(image)
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        inferencer.run(image)
        durations.append(time.perf_counter() - started)
    return 1000 * statistics.median(durations)


def auroc(inferencer: OpenVinoInferencer, test: list[ImageRecord], size: int) -> float:
    scores = [inferencer.run(inference_inputs([record], size)[:1]).pred_score[0] for record in test]
    return float(metrics.image_auroc(np.array([r.label for r in test]), np.array(scores, dtype=np.float64)))


def hyperparameters(model: str, args: argparse.Namespace) -> dict[str, Any]:
    """The run's size and training budget, for the models that take one."""
    fields = get_spec(model).hyperparameters.model_fields
    budget = {"max_steps": args.max_steps, "max_epochs": args.max_epochs, "max_minutes": args.max_minutes}
    return {"image_size": args.image_size, **{name: value for name, value in budget.items() if name in fields}}


def run_model(model: str, train: list[ImageRecord], test: list[ImageRecord], args: argparse.Namespace) -> dict:
    spec = get_spec(model)
    weights = None
    if spec.needs_pretrained:
        weights = "imagenet" if imagenet_weights_available("resnet18", WEIGHTS.resolved_weights_dir) else "random"
    trained = fit(
        model,
        train,
        test,
        hyperparameters=hyperparameters(model, args),
        weights=weights,
        weights_dir=WEIGHTS.resolved_weights_dir,
        weights_base_url=WEIGHTS.weights_base_url,
        accelerator="cpu",
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = artifacts.save(trained, Path(scratch) / "model")
        started = time.perf_counter()
        calibration = [np.asarray(load_rgb(record.image)) for record in train]
        xml = quantize_openvino(
            folder / OPENVINO_DIR / OPENVINO_FILE, calibration, Path(scratch) / "int8", image_size=args.image_size
        )
        quantise_s = time.perf_counter() - started
        f32 = OpenVinoInferencer(folder / OPENVINO_DIR / OPENVINO_FILE, threads=args.threads)
        int8 = OpenVinoInferencer(xml, threads=args.threads)
        image = inference_inputs(test, args.image_size)[:1]
        f32_ms, int8_ms = p50_ms(f32, image, args.repeats), p50_ms(int8, image, args.repeats)
        f32_auroc, int8_auroc = auroc(f32, test, args.image_size), auroc(int8, test, args.image_size)
    return {
        "model": model,
        "weights": weights,
        "f32_p50_ms": round(f32_ms, 2),
        "int8_p50_ms": round(int8_ms, 2),
        "speedup": round(f32_ms / int8_ms, 3),
        "f32_auroc": round(f32_auroc, 4),
        "int8_auroc": round(int8_auroc, 4),
        "auroc_drop": round(f32_auroc - int8_auroc, 4),
        "refused_at_0.01": f32_auroc - int8_auroc > 0.01,
        "quantise_s": round(quantise_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="An MVTec AD layout folder (read in place).")
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--max-train", type=int, default=100)
    parser.add_argument("--max-test", type=int, default=80)
    parser.add_argument("--max-steps", type=int, default=300, help="Step budget of the models that take one.")
    parser.add_argument("--max-epochs", type=int, default=3, help="Epoch budget of the models that take one.")
    parser.add_argument("--max-minutes", type=float, default=3.0, help="Time budget of the models that take one.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--json", type=Path, default=Path("bench-int8.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train = evenly(mvtec_records(args.dataset, "train"), args.max_train)
    test = stratified(mvtec_records(args.dataset, "test"), args.max_test)
    rows = []
    for model in args.models:
        rows.append(run_model(model, train, test, args))
        print(json.dumps(rows[-1]), flush=True)
    header = ["model", "weights", "f32 p50 ms", "int8 p50 ms", "speed-up", "f32 AUROC", "int8 AUROC", "drop"]
    keys = ["model", "weights", "f32_p50_ms", "int8_p50_ms", "speedup", "f32_auroc", "int8_auroc", "auroc_drop"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[key]) for key in keys) + " |")
    config = {key: str(value) for key, value in vars(args).items()}
    setup = {"train_images": len(train), "test_images": len(test), **config}
    args.json.write_text(json.dumps({"setup": setup, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

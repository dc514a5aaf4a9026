"""Benchmark of the from-scratch model ("draem"): fit time and image AUROC on MVTec-layout datasets.

Trains on `train/good` through the production harness (`fit`), evaluates on `test/`, and prints a table and JSON:

    .venv/bin/python bench/scratch_model.py ../shared/datasets/magnetic_tile ../shared/datasets/elpv_mono \
        --threads 2 --set max_minutes=10 --json scratch.json

Wall-clock time depends on what else runs on the machine; the process CPU time (all threads) is reported beside it.
For the scratch model, `network_only_auroc` re-scores the test images with the same trained model without its
normal-patch memory, to show what each part contributes. `auroc_by_defect` is the image AUROC of `test/good` against
each defect folder alone: the pooled AUROC is their mean weighted by folder size, so it shows which folder holds a
dataset back.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from service.engine.data import AnomalyDataset, ImageRecord, mvtec_records
from service.engine.metrics import image_auroc
from service.engine.training import fit
from service.engine.training.evaluation import Evaluation
from service.engine.training.progress import Progress


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are read as JSON when they parse (numbers, booleans), else kept as strings."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        overrides[key] = _parse_value(value)
    return overrides


def network_only_auroc(model: torch.nn.Module, records: list[ImageRecord], image_size: int) -> float | None:
    """Image AUROC of the scratch model's segmentation network alone (None for models without a patch memory)."""
    if getattr(model, "memory_weight", 0) == 0:
        return None
    weight, model.memory_weight = model.memory_weight, 0.0
    try:
        loader = DataLoader(AnomalyDataset(records, image_size), batch_size=32)
        with torch.no_grad():
            scores = torch.cat([model(batch["image"]).pred_score for batch in loader])
    finally:
        model.memory_weight = weight
    return round(float(image_auroc([r.label for r in records], scores.numpy())), 4)


def auroc_by_defect(evaluation: Evaluation) -> dict[str, float]:
    """Image AUROC of the normal images against each defect folder's (record names are `<folder>/<file>`)."""
    normal = [image.raw_score for image in evaluation.images if image.label == 0]
    folders: dict[str, list[float]] = {}
    for image in evaluation.images:
        if image.label == 1:
            folders.setdefault(image.name.split("/", 1)[0], []).append(image.raw_score)
    return {
        folder: round(float(image_auroc([0] * len(normal) + [1] * len(scores), normal + scores)), 4)
        for folder, scores in sorted(folders.items())
    }


def run(dataset: Path, model: str, hyperparameters: dict[str, Any], seed: int) -> dict[str, Any]:
    train_records, test_records = mvtec_records(dataset, "train"), mvtec_records(dataset, "test")
    steps: list[int] = []

    def record(progress: Progress) -> None:
        if progress.phase == "training":
            steps.append(progress.step)

    wall, cpu = time.perf_counter(), time.process_time()
    trained = fit(model, train_records, test_records, hyperparameters=hyperparameters, seed=seed, progress=record)
    return {
        "dataset": dataset.name,
        "model": model,
        "train_images": len(train_records),
        "test_images": len(test_records),
        "training_steps": max(steps, default=0),
        "fit_seconds": round(time.perf_counter() - wall, 1),
        "fit_cpu_seconds": round(time.process_time() - cpu, 1),
        "image_auroc": trained.evaluation.metrics["image_auroc"],
        "network_only_auroc": network_only_auroc(trained.model, test_records, trained.hyperparameters.image_size),
        "pixel_auroc": trained.evaluation.metrics.get("pixel_auroc"),
        "auroc_by_defect": auroc_by_defect(trained.evaluation),
        "hyperparameters": trained.hyperparameters.model_dump(),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = (
        "dataset",
        "training_steps",
        "fit_seconds",
        "fit_cpu_seconds",
        "image_auroc",
        "network_only_auroc",
        "pixel_auroc",
    )
    print(" | ".join(columns))
    for row in rows:
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) and "auroc" in c else str(row[c]) for c in columns]
        print(" | ".join(cells))
    print("dataset | defect folder | image AUROC against good")
    for row in rows:
        for folder, auroc in row["auroc_by_defect"].items():
            print(f"{row['dataset']} | {folder} | {auroc:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path, help="MVTec AD layout folders")
    parser.add_argument("--model", default="draem")
    parser.add_argument(
        "--weights", choices=("imagenet", "random", "openlv"), help="backbone weights of a feature-based model"
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="hyperparameter key=value")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    hyperparameters = parse_overrides(args.overrides)
    if args.weights is not None:
        hyperparameters["weights"] = args.weights
    rows = [run(dataset, args.model, hyperparameters, args.seed) for dataset in args.datasets]
    print_table(rows)
    print(json.dumps(rows, indent=2))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Would fusing two offline models' image scores beat either? draem and PaDiM on openlv's backbone, side by side.

Each model is fitted (the production harness, `fit`) on six sevenths of `train/good` (a seeded split); the held-out
seventh gives each model's mean and deviation on unseen normal images, which turn its test scores into z-scores, so
two models' scores can be added. Prints the image AUROC of each model, of draem's network alone, and of weighted sums
and a rank average of the z-scores:

    nice -n 10 .venv/bin/python bench/score_fusion.py ../shared/datasets/magnetic_tile ../shared/datasets/elpv_mono \
        --json fusion.json
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.engine.data import AnomalyDataset, ImageRecord, mvtec_records
from service.engine.metrics import image_auroc
from service.engine.training import fit

MODELS: dict[str, dict[str, Any]] = {"draem": {}, "padim": {"weights": "openlv"}}
WEIGHTS = (0.3, 0.5, 0.7)
"""draem's share of a weighted sum; PaDiM has the rest."""


def split(records: list[ImageRecord], seed: int) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """(fit on, held out): a seeded seventh held out."""
    order = np.random.default_rng(seed).permutation(len(records))
    held = len(records) // 7
    return [records[i] for i in order[held:]], [records[i] for i in order[:held]]


def scores(model: torch.nn.Module, records: list[ImageRecord], image_size: int, **overrides: float) -> np.ndarray:
    """Raw image scores, with model attributes temporarily overridden (draem's `memory_weight=0`: network alone)."""
    saved = {name: getattr(model, name) for name in overrides}
    for name, value in overrides.items():
        setattr(model, name, value)
    try:
        loader = DataLoader(AnomalyDataset(records, image_size), batch_size=16)
        with torch.no_grad():
            return torch.cat([model(batch["image"]).pred_score for batch in loader]).numpy()
    finally:
        for name, value in saved.items():
            setattr(model, name, value)


def z_scores(test: np.ndarray, held: np.ndarray) -> np.ndarray:
    return (test - held.mean()) / max(float(held.std()), 1e-9)


def ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(np.float64)


def run(dataset: Path, seed: int) -> dict[str, Any]:
    train, test = mvtec_records(dataset, "train"), mvtec_records(dataset, "test")
    fit_on, held = split(train, seed)
    labels = [record.label for record in test]
    parts: dict[str, np.ndarray] = {}
    fit_seconds = {}
    for name, hyperparameters in MODELS.items():
        began = time.perf_counter()
        trained = fit(name, fit_on, test, hyperparameters=hyperparameters, seed=seed)
        fit_seconds[name] = round(time.perf_counter() - began, 1)
        model, size = trained.model.eval(), trained.hyperparameters.image_size
        parts[name] = z_scores(scores(model, test, size), scores(model, held, size))
        if name == "draem":
            alone = {"memory_weight": 0.0}
            parts["draem network alone"] = z_scores(
                scores(model, test, size, **alone), scores(model, held, size, **alone)
            )
    auroc = {name: image_auroc(labels, values) for name, values in parts.items()}
    for weight in WEIGHTS:
        fused = weight * parts["draem"] + (1 - weight) * parts["padim"]
        auroc[f"{weight:.1f} draem + {1 - weight:.1f} padim"] = image_auroc(labels, fused)
    auroc["rank average"] = image_auroc(labels, ranks(parts["draem"]) + ranks(parts["padim"]))
    return {
        "dataset": dataset.name,
        "fit_images": len(fit_on),
        "held_out": len(held),
        "fit_seconds": fit_seconds,
        "image_auroc": {name: round(float(value), 4) for name, value in auroc.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path, help="MVTec AD layout folders")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [run(dataset, args.seed) for dataset in args.datasets]
    names = list(rows[0]["image_auroc"])
    print("| scores | " + " | ".join(row["dataset"] for row in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{row['image_auroc'][name]:.3f}" for row in rows) + " |")
    print(json.dumps(rows, indent=2))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

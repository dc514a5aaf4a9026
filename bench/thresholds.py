"""Threshold benchmark: does a threshold chosen on one half of a test set keep its target on the other half?

    .venv/bin/python bench/thresholds.py --datasets ../shared/datasets/magnetic_tile ../shared/datasets/elpv_mono \
        --json bench/results/thresholds.json

For each dataset one model is trained once (PatchCore, on the CPU; ImageNet backbone weights when cached, random
ones otherwise) and its normalised score for every test image is kept in `--scores-dir`, so a rerun only repeats
the experiment. Then, for `--splits` random halvings of the test set (stratified: each half gets half of the normal
and half of the anomalous images), every policy chooses its threshold on one half with `service.domain.thresholds`
exactly as UpdateModelThreshold does, and the targeted metric is measured on the other half. Without a Confidence
the threshold meets the target on the half it was chosen on; the question is how often it still does on unseen
images. With `Confidence 0.95` the claim is that it does in at least 95 % of splits.

The other half is itself a finite sample, so its measured rate scatters around the rate the threshold has on all
future parts, which is what the Clopper-Pearson bound is about. A second experiment checks that claim where the
true rates are known: scores drawn from two normal distributions (normal parts N(0, 1), defects N(1.5, 1), mapped
into (0, 1) by a logistic), a threshold chosen on `--population-sample` draws, and its exact recall, precision and
FPR from the distributions.
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
from scipy.stats import norm

from service.domain.thresholds import Policy, operating_point, threshold_for
from service.engine.backbones import imagenet_weights_available
from service.engine.data import mvtec_records
from service.engine.training import fit
from service.errors import ValidationException

POLICIES: list[tuple[Policy, float]] = [
    (Policy.TARGET_RECALL, 0.9),
    (Policy.TARGET_RECALL, 0.95),
    (Policy.TARGET_PRECISION, 0.9),
    (Policy.TARGET_FPR, 0.1),
    (Policy.TARGET_FPR, 0.2),
]
CONFIDENCES: list[float | None] = [None, 0.95]


def _evenly(items: list[Any], limit: int | None) -> list[Any]:
    if limit is None or len(items) <= limit:
        return items
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, limit).round()]


def test_scores(dataset: Path, scores_dir: Path, *, max_train: int, image_size: int) -> dict[str, Any]:
    """Labels and normalised scores of every test image of `dataset`, trained once and then read from the cache."""
    cache = scores_dir / f"{dataset.name}-patchcore-{image_size}px-{max_train}train.json"
    if cache.is_file():
        cached: dict[str, Any] = json.loads(cache.read_text())
        return cached
    train = _evenly(mvtec_records(dataset, "train"), max_train)
    test = mvtec_records(dataset, "test")
    weights = "imagenet" if imagenet_weights_available("resnet18") else "random"
    print(f"training patchcore on {dataset.name}: {len(train)} train, {len(test)} test images ({weights})", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        trained = fit(
            "patchcore",
            train,
            test,
            hyperparameters={"image_size": image_size},
            weights=weights,
            accelerator="cpu",
            work_dir=Path(work),
        )
    images = trained.evaluation.images
    result = {
        "dataset": dataset.name,
        "model": "patchcore",
        "weights": weights,
        "image_size": image_size,
        "train_images": len(train),
        "fit_seconds": round(time.perf_counter() - started, 1),
        "image_auroc": trained.evaluation.metrics.get("image_auroc"),
        "score_scale": str(trained.score_scale),
        "labels": [image.label for image in images],
        "scores": [image.score for image in images],
    }
    scores_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result


def _halves(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first, second = [], []
    for label in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == label))
        first.append(members[: members.size // 2])
        second.append(members[members.size // 2 :])
    return np.concatenate(first), np.concatenate(second)


def _metric(policy: Policy, point: Any) -> float:
    return {
        Policy.TARGET_RECALL: point.recall,
        Policy.TARGET_PRECISION: point.precision,
        Policy.TARGET_FPR: point.false_positive_rate,
    }[policy]


def _holds(policy: Policy, value: float, target: float) -> bool:
    return value <= target + 1e-12 if policy is Policy.TARGET_FPR else value >= target - 1e-12


def split_half(labels: np.ndarray, scores: np.ndarray, *, splits: int, seed: int) -> list[dict[str, Any]]:
    """One row per (policy, target, confidence): how the threshold chosen on one half fares on the other."""
    rng = np.random.default_rng(seed)
    halvings = [_halves(labels, rng) for _ in range(splits)]
    rows = []
    for policy, target in POLICIES:
        for confidence in CONFIDENCES:
            chosen_on, measured, bounds, refusals = [], [], [], []
            for tune, check in halvings:
                try:
                    decision = threshold_for(policy, target, labels[tune], scores[tune], confidence)
                except ValidationException as refused:
                    refusals.append(refused.message)
                    continue
                tuned = operating_point(labels[tune], scores[tune], decision.threshold)
                other = operating_point(labels[check], scores[check], decision.threshold)
                chosen_on.append(_metric(policy, tuned))
                measured.append(_metric(policy, other))
                if decision.target is not None and decision.target.bound is not None:
                    bounds.append(decision.target.bound)
            held = [_holds(policy, value, target) for value in measured]
            worst = max if policy is Policy.TARGET_FPR else min
            rows.append(
                {
                    "policy": str(policy),
                    "target": target,
                    "confidence": confidence,
                    "splits": splits,
                    "refused": len(refusals),
                    "refusal": refusals[0] if refusals else None,
                    "held_on_other_half": sum(held) / len(held) if held else None,
                    "mean_on_tuning_half": statistics.fmean(chosen_on) if chosen_on else None,
                    "mean_bound": statistics.fmean(bounds) if bounds else None,
                    "mean_on_other_half": statistics.fmean(measured) if measured else None,
                    "worst_on_other_half": worst(measured) if measured else None,
                }
            )
    return rows


DEFECT_SHIFT = 1.5


def _true_metric(policy: Policy, threshold: float, prevalence: float) -> float:
    """The exact rate of a threshold on the known population (scores are logistic(N(0, 1)) and logistic(N(1.5, 1)))."""
    raw = float(np.log(threshold / (1.0 - threshold)))
    recall, fpr = float(norm.sf(raw - DEFECT_SHIFT)), float(norm.sf(raw))
    if policy is Policy.TARGET_RECALL:
        return recall
    if policy is Policy.TARGET_FPR:
        return fpr
    return prevalence * recall / (prevalence * recall + (1.0 - prevalence) * fpr)


def known_population(*, draws: int, sample: int, seed: int) -> list[dict[str, Any]]:
    """How often a threshold chosen on `sample` normal and `sample` defect draws meets its target on the population."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(sample, dtype=np.int64), np.ones(sample, dtype=np.int64)]
    samples = [
        1.0 / (1.0 + np.exp(-np.r_[rng.normal(0.0, 1.0, sample), rng.normal(DEFECT_SHIFT, 1.0, sample)]))
        for _ in range(draws)
    ]
    rows = []
    for policy, target in POLICIES:
        for confidence in CONFIDENCES:
            true_values, refused = [], 0
            for scores in samples:
                try:
                    decision = threshold_for(policy, target, labels, scores, confidence)
                except ValidationException:
                    refused += 1
                    continue
                true_values.append(_true_metric(policy, decision.threshold, 0.5))
            held = [_holds(policy, value, target) for value in true_values]
            rows.append(
                {
                    "policy": str(policy),
                    "target": target,
                    "confidence": confidence,
                    "draws": draws,
                    "refused": refused,
                    "held_on_population": sum(held) / len(held) if held else None,
                    "mean_true_value": statistics.fmean(true_values) if true_values else None,
                }
            )
    return rows


def _cell(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        positives = sum(result["labels"])
        title = (
            f"\n{result['dataset']}: patchcore ({result['weights']} weights, {result['image_size']} px, "
            f"{result['train_images']} train images), image AUROC {_cell(result['image_auroc'])}, test set "
            f"{len(result['labels']) - positives} normal + {positives} anomalous, each half holds half of each\n"
        )
        header = (
            "| policy | target | confidence | refused | target held on other half | mean on tuning half | mean bound "
            "| mean on other half | worst on other half |"
        )
        lines += [title, header, "|---|---|---|---|---|---|---|---|---|"]
        for row in result["split_half"]:
            held = row["held_on_other_half"]
            lines.append(
                f"| {row['policy']} | {row['target']:g} | {_cell(row['confidence'], 'g')} | "
                f"{row['refused']}/{row['splits']} | {'-' if held is None else f'{100 * held:.0f} %'} | "
                f"{_cell(row['mean_on_tuning_half'])} | {_cell(row['mean_bound'])} | "
                f"{_cell(row['mean_on_other_half'])} | {_cell(row['worst_on_other_half'])} |"
            )
    return "\n".join(lines)


def population_markdown(rows: list[dict[str, Any]], sample: int) -> str:
    title = (
        f"\nknown population: {sample} normal + {sample} defect draws per test set, defects shifted by "
        f"{DEFECT_SHIFT} standard deviations (AUROC {norm.cdf(DEFECT_SHIFT / np.sqrt(2)):.3f})\n"
    )
    lines = [
        title,
        "| policy | target | confidence | refused | target met on the population | mean true value |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        held = row["held_on_population"]
        lines.append(
            f"| {row['policy']} | {row['target']:g} | {_cell(row['confidence'], 'g')} | {row['refused']}/{row['draws']} "
            f"| {'-' if held is None else f'{100 * held:.1f} %'} | {_cell(row['mean_true_value'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", type=Path, required=True, help="MVTec AD layout folders")
    parser.add_argument("--scores-dir", type=Path, default=Path("bench/results/threshold-scores"))
    parser.add_argument("--max-train", type=int, default=200, help="train/good images used (evenly spread)")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--splits", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--population-draws", type=int, default=400, help="test sets drawn from the known population")
    parser.add_argument("--population-sample", type=int, default=100, help="normal (and defect) draws per test set")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = []
    for dataset in args.datasets:
        scored = test_scores(dataset, args.scores_dir, max_train=args.max_train, image_size=args.image_size)
        labels, scores = np.array(scored["labels"]), np.array(scored["scores"])
        rows = split_half(labels, scores, splits=args.splits, seed=args.seed)
        results.append({**scored, "split_half": rows})
    print(markdown(results))
    population = known_population(draws=args.population_draws, sample=args.population_sample, seed=args.seed)
    print(population_markdown(population, args.population_sample))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = [
            {key: value for key, value in result.items() if key not in {"labels", "scores"}} for result in results
        ]
        args.json.write_text(json.dumps({"split_half": summary, "known_population": population}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

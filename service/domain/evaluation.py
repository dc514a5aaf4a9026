"""A trained model's evaluation on its test images, kept in storage under the model's prefix.

- `evaluation/scores.json`: per-image test scores (normalised and raw) and labels, read back to tune thresholds and to
  draw ROC/PR curves without retraining;
- `evaluation/evaluation_manifest.jsonl`: Lookout for Vision's EvaluationManifest, one JSON line per test image with its
  ground-truth label and the detected label and confidence at the model's threshold;
- `evaluation/evaluation_result.json`: Lookout for Vision's EvaluationResult, plus openlv's extra metrics.

The EvaluationManifest and EvaluationResult are also written where the caller's OutputConfig S3Location points (any
bucket the service can write, `service.domain.buckets`), in Lookout for Vision's layout:
`<Prefix>/EvaluationManifest-<project>-<version>.json` and `<Prefix>/EvaluationResult-<project>-<version>.json`.
Those are the caller's objects: DescribeModel names them, and DeleteModel leaves them where they are.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from service.db.models import Model
from service.domain import buckets
from service.engine import metrics
from service.errors import InternalServerException, ValidationException
from service.storage import ObjectNotFoundError, ObjectStore, StorageKeyError, validate_key

SCORES = "evaluation/scores.json"
MANIFEST = "evaluation/evaluation_manifest.jsonl"
RESULT = "evaluation/evaluation_result.json"
CLASS_NAMES = {0: "normal", 1: "anomaly"}


@dataclass(frozen=True)
class OutputObjects:
    """Where the caller's copies of the EvaluationManifest and EvaluationResult go (OutputConfig S3Location)."""

    bucket: str
    manifest_key: str
    result_key: str


def output_objects(*, bucket: str, prefix: str, project_name: str, version: int) -> OutputObjects:
    """Lookout for Vision's layout under the OutputConfig prefix (a folder: a missing '/' is added)."""
    folder = prefix.strip("/")
    base = f"{folder}/" if folder else ""
    name = f"{project_name}-{version}"
    try:
        return OutputObjects(
            bucket=bucket,
            manifest_key=validate_key(f"{base}EvaluationManifest-{name}.json"),
            result_key=validate_key(f"{base}EvaluationResult-{name}.json"),
        )
    except StorageKeyError as exc:
        raise ValidationException(f"Invalid OutputConfig S3Location prefix {prefix!r}: {exc}.") from None


def recorded_output(model: Model) -> OutputObjects | None:
    """The caller's copies this model's training wrote (None for models evaluated before openlv wrote them)."""
    if not (model.output_manifest_key and model.output_result_key):
        return None
    return OutputObjects(model.output_bucket, model.output_manifest_key, model.output_result_key)


@dataclass(frozen=True)
class ScoredImage:
    source_ref: str
    sha256: str
    label: int
    score: float
    raw_score: float


@dataclass(frozen=True)
class TestScores:
    images: list[ScoredImage]

    @property
    def labels(self) -> np.ndarray:
        return np.array([image.label for image in self.images], dtype=np.int64)

    @property
    def scores(self) -> np.ndarray:
        return np.array([image.score for image in self.images], dtype=np.float64)

    def to_json(self) -> bytes:
        return json.dumps({"images": [image.__dict__ for image in self.images]}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "TestScores":
        return cls(images=[ScoredImage(**image) for image in json.loads(data)["images"]])


def verdict_confidence(score: float, threshold: float) -> float:
    """Confidence in the verdict `score >= threshold`: 0.5 at the threshold, rising linearly to 1.0 at the far end of
    the 0..1 score range on the verdict's side."""
    if score >= threshold:
        return 0.5 if threshold >= 1.0 else min(1.0, 0.5 + 0.5 * (score - threshold) / (1.0 - threshold))
    return min(1.0, 0.5 + 0.5 * (threshold - score) / threshold)


def _defined(metric: Any, *args: Any) -> float | None:
    try:
        return float(metric(*args))
    except ValueError:
        return None


def summary_metrics(scores: TestScores, engine_metrics: dict[str, Any]) -> dict[str, float | None]:
    """Threshold-free metrics on raw scores (ties from score clipping would distort them) and pixel metrics."""
    labels = scores.labels
    raw = np.array([image.raw_score for image in scores.images], dtype=np.float64)
    recall_one = _defined(lambda: metrics.threshold_for_recall(labels, raw, 1.0)[1])
    return {
        "ImageAUROC": _defined(metrics.image_auroc, labels, raw),
        "AveragePrecision": _defined(metrics.average_precision, labels, raw),
        "PrecisionAtFullRecall": recall_one,
        "PixelAUROC": engine_metrics.get("pixel_auroc"),
        "PixelAUPRO": engine_metrics.get("aupro"),
    }


def manifest_lines(model: Model, scores: TestScores, *, job_name: str, at: datetime) -> list[dict[str, Any]]:
    created = at.isoformat()
    lines = []
    for image in scores.images:
        detected = int(image.score >= model.image_threshold)
        lines.append(
            {
                "source-ref": image.source_ref,
                "anomaly-label": image.label,
                "anomaly-label-metadata": {
                    "class-name": CLASS_NAMES[image.label],
                    "type": "groundtruth/image-classification",
                    "human-annotated": "yes",
                    "creation-date": created,
                    "job-name": job_name,
                },
                "anomaly-label-detected": detected,
                "anomaly-label-detected-metadata": {
                    "class-name": CLASS_NAMES[detected],
                    "confidence": verdict_confidence(image.score, model.image_threshold),
                    "score": image.score,
                    "type": "groundtruth/image-classification",
                    "human-annotated": "no",
                    "creation-date": created,
                    "job-name": job_name,
                },
            }
        )
    return lines


def evaluation_result(
    model: Model, *, model_arn: str, at: datetime, training_images: int, scores: TestScores
) -> dict[str, Any]:
    return {
        "Version": 1,
        "EvaluationDetails": {
            "ModelArn": model_arn,
            "EvaluationEndTimestamp": at.isoformat(),
            "NumberOfTrainingImages": training_images,
            "NumberOfTestingImages": len(scores.images),
        },
        "AggregatedEvaluationResults": {
            "Metrics": {
                "ROCAUC": model.evaluation_metrics.get("ImageAUROC"),
                "AveragePrecision": model.evaluation_metrics.get("AveragePrecision"),
                "Precision": model.performance.get("Precision"),
                "Recall": model.performance.get("Recall"),
                "F1Score": model.performance.get("F1Score"),
            }
        },
        "OpenlvMetrics": {"Threshold": model.image_threshold, **model.evaluation_metrics},
    }


def write_evaluation(
    store: ObjectStore, *, model: Model, model_arn: str, scores: TestScores, output: OutputObjects | None
) -> None:
    """(Re)write the evaluation objects of an evaluated model at its current threshold: the service's copies, then
    the caller's at `output` (a ValidationException names the object the caller's bucket refused)."""
    assert model.evaluation_end_at is not None, "write_evaluation needs an evaluated model"
    prefix, at = model.artifacts_prefix, model.evaluation_end_at
    training_images = int(model.evaluation_metrics.get("TrainingImages", 0))
    store.put(prefix + SCORES, scores.to_json(), "application/json")
    manifest = "".join(json.dumps(line) + "\n" for line in manifest_lines(model, scores, job_name=model_arn, at=at))
    store.put(prefix + MANIFEST, manifest.encode(), "application/x-ndjson")
    result = evaluation_result(model, model_arn=model_arn, at=at, training_images=training_images, scores=scores)
    result_bytes = json.dumps(result, indent=2).encode()
    store.put(prefix + RESULT, result_bytes, "application/json")
    if output is not None:
        target = buckets.store_for(store, output.bucket, what="OutputConfig S3Location")
        buckets.write(target, output.manifest_key, manifest.encode(), "application/json", what="evaluation manifest")
        buckets.write(target, output.result_key, result_bytes, "application/json", what="evaluation result")


def read_scores(store: ObjectStore, *, model: Model) -> TestScores:
    """The stored test-set scores of an evaluated model. Their absence is the service's fault, not the caller's."""
    try:
        return TestScores.from_json(store.get(model.artifacts_prefix + SCORES))
    except ObjectNotFoundError:
        raise InternalServerException(
            f"The evaluation results of model version {model.version} are missing from the service's storage."
        ) from None

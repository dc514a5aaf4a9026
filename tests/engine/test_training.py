"""The training harness: progress, cancellation, reproducibility, thresholds and evaluation, on the quickest model."""

import threading

import numpy as np
import pytest
import torch

from service.engine.errors import EngineError, TrainingCancelledError
from service.engine.training import PHASES, Progress, fit, resolve_hyperparameters
from tests.engine.conftest import tiny_hyperparameters

MODEL = "draem"  # trains from scratch, so every run exercises an optimiser without pretrained weights


def _fit(tiny_data, **options):
    options.setdefault("hyperparameters", tiny_hyperparameters(MODEL))
    return fit(MODEL, tiny_data.train, options.pop("val", tiny_data.val), accelerator="cpu", **options)


def test_progress_goes_through_the_phases_in_order(tiny_data, tmp_path):
    events: list[Progress] = []
    _fit(tiny_data, progress=events.append, work_dir=tmp_path)
    phases = [event.phase for event in events]
    assert list(dict.fromkeys(phases)) == ["loading", "training", "validating", "evaluating"]
    percents = [event.percent for event in events]
    assert percents == sorted(percents)
    training = [event for event in events if event.phase == "training"]
    assert training[-1].step == training[-1].total == tiny_hyperparameters(MODEL)["max_steps"]
    assert events[-1].percent == PHASES["evaluating"][1]


def test_cancellation_stops_training_and_leaves_nothing_behind(tiny_data, tmp_path):
    cancel = threading.Event()
    seen: list[Progress] = []

    def cancel_once_training(event: Progress) -> None:
        seen.append(event)
        if event.phase == "training" and event.step == 1:
            cancel.set()

    with pytest.raises(TrainingCancelledError):
        _fit(tiny_data, progress=cancel_once_training, cancel=cancel, work_dir=tmp_path)
    assert max(event.step for event in seen if event.phase == "training") == 1
    assert not any(event.phase == "validating" for event in seen)
    assert list(tmp_path.iterdir()) == []


def test_cancel_accepts_a_callable(tiny_data):
    with pytest.raises(TrainingCancelledError):
        _fit(tiny_data, cancel=lambda: True)


def test_same_seed_same_model_other_seed_other_model(tiny_data):
    first, second, other = (_fit(tiny_data, seed=seed) for seed in (3, 3, 4))
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name
    assert first.stats == second.stats
    assert first.evaluation == second.evaluation
    assert first.stats != other.stats


def test_evaluation_reports_scores_and_metrics_for_every_validation_image(tiny_data):
    trained = _fit(tiny_data)
    images = trained.evaluation.images
    assert [image.name for image in images] == [record.name for record in tiny_data.val]
    assert [image.label for image in images] == [record.label for record in tiny_data.val]
    for image in images:
        assert 0.0 <= image.score <= 1.0
        assert image.is_anomalous == (image.score >= 0.5)
        assert image.is_anomalous == (image.raw_score >= trained.stats.image_threshold)
    metrics = trained.evaluation.metrics
    predicted = sum(image.is_anomalous for image in images)
    assert metrics["true_positives"] + metrics["false_positives"] == predicted
    assert 0.0 <= metrics["image_auroc"] <= 1.0
    assert metrics["pixel_auroc"] is not None and metrics["aupro"] is not None


def test_normal_only_validation_sets_a_threshold_and_leaves_class_metrics_undefined(tiny_data):
    normal = [record for record in tiny_data.val if record.label == 0]
    trained = _fit(tiny_data, val=normal)
    raw = np.array([image.raw_score for image in trained.evaluation.images])
    assert raw.min() <= trained.stats.image_threshold <= raw.max()
    metrics = trained.evaluation.metrics
    assert metrics["image_auroc"] is None and metrics["f1"] is None and metrics["pixel_auroc"] is None
    assert metrics["false_positive_rate"] is not None


def test_unusable_data_is_refused(tiny_data):
    anomalous = [record for record in tiny_data.val if record.label == 1]
    with pytest.raises(EngineError, match="no training images"):
        fit(MODEL, [], tiny_data.val)
    with pytest.raises(EngineError, match="must all be normal"):
        fit(MODEL, tiny_data.train + anomalous, tiny_data.val)
    with pytest.raises(EngineError, match="at least one normal"):
        fit(MODEL, tiny_data.train, anomalous)


def test_weights_and_seed_fill_the_models_own_fields_unless_given():
    settings = resolve_hyperparameters("padim", {"image_size": 64}, "random", 7)
    assert (settings.weights, settings.seed) == ("random", 7)
    explicit = resolve_hyperparameters("padim", {"weights": "imagenet", "seed": 2}, "random", 7)
    assert (explicit.weights, explicit.seed) == ("imagenet", 2)
    assert resolve_hyperparameters("draem", {}, "imagenet", 7).seed == 7
    with pytest.raises(EngineError, match="invalid hyperparameters"):
        resolve_hyperparameters("draem", {"no_such_option": 1}, None, 0)

"""Train, tune, host and query a tiny model through the SDK (PaDiM, random backbone, 64 px: seconds, not minutes)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

import sdk
from tests.helpers.data import synthetic_dataset
from tests.sdk.conftest import sdk_client

TINY = {"algorithm": "padim", "weights": "random", "image_size": 64}


@pytest.fixture(scope="module")
def trained(server, tmp_path_factory):
    """One trained model for the module; yields (project, model, dataset root, progress reports seen while waiting)."""
    root = synthetic_dataset(tmp_path_factory.mktemp("data"), n_train=10, n_test_good=10, n_test_defect=4, size=64)
    client = sdk_client(server)
    project = sdk.Project.create("sdk-models", client=client)
    project.datasets.import_mvtec(root)
    reports: list[sdk.TrainingJob] = []
    model = project.train(**TINY, hyperparameters={"seed": 3}, tags={"purpose": "test"}).wait(
        timeout=300, progress=reports.append
    )
    yield project, model, root, reports
    project.delete(force=True)
    client.close()


def test_training_reports_progress_and_performance(trained):
    project, model, _, reports = trained
    assert model.status == "TRAINED"
    assert model.algorithm == "padim"
    assert model.hyperparameters is not None and model.hyperparameters["seed"] == "3"
    assert reports, "the waiter never reported progress"
    percents = [report.percent or 0 for report in reports]
    assert percents == sorted(percents)
    assert reports[-1].state == "SUCCEEDED"
    assert any(line.message for report in reports for line in report.log)
    assert model.performance is not None and model.performance.f1_score is not None
    assert model.tags == {"purpose": "test"}
    assert [m.version for m in project.models()] == [model.version]


def test_metrics_and_threshold_policies(trained):
    _, model, root, _ = trained
    metrics = model.metrics
    n_test = sum(1 for _ in (root / "test").rglob("*.png"))
    assert len(metrics.images) == n_test
    assert metrics.threshold_policy is not None and metrics.threshold_policy.policy == "F1_OPTIMAL"
    assert metrics.intervals is not None and metrics.intervals.confidence_level == 0.95
    defects = sum(image.label == "anomaly" for image in metrics.images)
    assert metrics.intervals.recall is not None and metrics.intervals.recall.trials == defects
    assert metrics.intervals.recall.lower <= metrics.performance.recall <= metrics.intervals.recall.upper
    narrow = model.evaluation(confidence=0.5).intervals
    assert narrow is not None and narrow.recall is not None and narrow.recall.lower >= metrics.intervals.recall.lower
    curves = model.curves()
    assert len(curves.roc.false_positive_rate) == len(curves.roc.thresholds) == len(curves.roc.true_positive_rate_lower)
    assert model.curves(confidence=0.9).confidence_level == 0.9

    with pytest.raises(sdk.ValidationError, match="at least 299 anomalous test images are needed"):
        model.set_threshold(target_recall=0.99, confidence=0.95)
    sure = model.set_threshold(target_recall=0.5, confidence=0.8)
    assert sure.threshold_policy is not None and sure.threshold_policy.confidence == 0.8
    assert sure.target is not None and sure.target.bound is not None and sure.target.bound_side == "LOWER"
    assert 0.5 <= sure.target.bound <= sure.target.estimate == sure.performance.recall

    full_recall = model.set_threshold(target_recall=1.0)
    assert full_recall.performance.recall == 1.0
    assert full_recall.confusion_matrix.false_negatives == 0
    manual = model.set_threshold(value=0.7)
    assert manual.threshold == pytest.approx(0.7)
    assert model.metrics.threshold == pytest.approx(0.7)
    back = model.set_threshold(f1_optimal=True)
    assert back.threshold == pytest.approx(0.5)
    policies = [change.policy.policy for change in model.threshold_history(page_size=1)]
    assert policies[-3:] == ["TARGET_RECALL", "MANUAL", "F1_OPTIMAL"]
    with pytest.raises(ValueError):
        model.set_threshold(target_recall=0.9, value=0.5)


def test_host_detect_and_detections_log(trained):
    project, model, root, _ = trained
    started_at = datetime.now(UTC)
    seen: list[str] = []
    model.start(min_units=1, progress=lambda m: seen.append(m.status or ""))
    try:
        assert model.status == "HOSTED"
        assert seen[-1] == "HOSTED"
        assert project.hosted_model().version == model.version

        defect = next(path for path in sorted((root / "test").rglob("*.png")) if path.parent.name != "good")
        result = model.detect(defect)
        assert result.source == str(defect)
        assert 0.5 <= result.confidence <= 1.0
        mask = result.mask_array
        assert mask is not None and mask.shape == (64, 64)
        assert result.mask is not None and result.mask.size == (64, 64)
        assert result.area == pytest.approx(mask.mean(), abs=1 / mask.size)
        assert sum(box.pixels for box in result.boxes) == int(mask.sum())
        for box in result.boxes:
            assert mask[box.top : box.bottom, box.left : box.right].any()

        from_bytes = model.detect(defect.read_bytes())
        from_pil = model.detect(Image.open(defect))
        assert from_bytes.is_anomalous == result.is_anomalous == from_pil.is_anomalous
        assert from_bytes.confidence == pytest.approx(result.confidence, abs=1e-4)

        good = sorted((root / "test" / "good").glob("*.png"))[:3]
        results = asyncio.run(_detect_async(model, good))
        assert all(isinstance(item, sdk.DetectionResult) for item in results)

        logged = list(model.detections(since=started_at, page_size=2))
        assert len(logged) == 6
        assert all(entry.model_version == model.version for entry in logged)
        assert [entry.detected_at for entry in logged] == sorted((e.detected_at for e in logged), reverse=True)
        anomalous = list(project.detections(anomalous_only=True, since=started_at))
        assert len(anomalous) == sum(entry.is_anomalous for entry in logged)
    finally:
        model.stop()
    assert model.status == "TRAINED"
    with pytest.raises(sdk.NoHostedModelError):
        project.hosted_model()


async def _detect_async(model: sdk.Model, images: list[Path]) -> list[sdk.DetectionResult | BaseException]:
    credentials = model.client.config.credentials
    assert credentials is not None
    async with sdk.AsyncClient(
        model.client.config.endpoint_url,
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
    ) as client:
        return await sdk.AsyncModel(client, model.project_name, model.version).detect_many(images, concurrency=2)


def test_unknown_algorithm_is_refused(project):
    with pytest.raises(sdk.ValidationError, match="Unknown Algorithm"):
        project.train(algorithm="no-such-model")


def test_detect_refuses_non_images(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError):
        sdk.detection.image_payload(tmp_path / "notes.txt")
    png = tmp_path / "x.PNG"
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    assert sdk.detection.image_payload(png)[1] == "image/png"
    assert sdk.detection.image_payload(png.read_bytes())[1] == "image/png"

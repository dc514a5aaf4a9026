"""Every registered model through fit -> save -> torch vs ONNX Runtime vs OpenVINO on the same images."""

import numpy as np
import pytest
import torch
from PIL import Image

from service.domain.thresholds import with_margin
from service.engine.export import export_pipeline
from service.engine.inference import OnnxInferencer, OpenVinoInferencer
from service.engine.inference.layout import ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE
from service.engine.normalization import RANGE_LOW, ScoreScale
from service.engine.registry import list_models
from service.hosting.verdict import judge

# (atol, rtol): atol in units of the validation range; rtol relative to the raw values' magnitude, because
# normalisation divides raw differences by spans of the validation range, which are narrow for briefly trained models.
# Both are scaled by the normalisation's steepest slope. OpenVINO's f32 CPU kernels fuse and reorder more than ONNX
# Runtime's, hence its looser bound.
ORT_TOLERANCE = (1e-4, 1e-6)
OPENVINO_TOLERANCE = (1e-3, 1e-5)


def _bound(threshold: float, low: float, high: float, tolerance: tuple[float, float]) -> float:
    """Allowed difference of normalised values: the raw tolerance times the UNSATURATED scale's steepest slope, 0.4
    per span of the narrower side of the threshold."""
    atol, rtol = tolerance
    spans = [span for span in (threshold - low, high - threshold) if span > 1e-12] or [max(high - low, 1e-12)]
    raw_tolerance = atol * max(high - low, 1e-12) + rtol * max(abs(low), abs(high))
    return raw_tolerance * (0.5 - RANGE_LOW) / min(spans)


def _bounds(stats, tolerance: tuple[float, float]) -> tuple[float, float]:
    """Allowed differences of normalised (scores, maps)."""
    return (
        _bound(stats.image_threshold, stats.min_score, stats.max_score, tolerance),
        _bound(stats.pixel_threshold, stats.min_pixel, stats.max_pixel, tolerance),
    )


def _validation_images(tiny_data, size: tuple[int, int] | None = None) -> np.ndarray:
    images = [Image.open(record.image).convert("RGB") for record in tiny_data.val]
    if size is not None:
        images = [image.resize(size, Image.BILINEAR) for image in images]
    return np.stack([np.asarray(image) for image in images])


@pytest.mark.parametrize("model_name", [spec.name for spec in list_models()])
def test_torch_onnx_and_openvino_agree(model_name, saved_model, tiny_data):
    saved = saved_model(model_name)
    assert saved.trained.score_scale is ScoreScale.UNSATURATED
    pipeline = export_pipeline(saved.trained)
    onnx = OnnxInferencer(saved.folder / ONNX_FILE)
    openvino = OpenVinoInferencer(saved.folder / OPENVINO_DIR / OPENVINO_FILE)
    size = saved.trained.image_size
    # At the training size, and at an odd size that makes every runtime resize inside its graph.
    for images in (_validation_images(tiny_data), _validation_images(tiny_data, (size + 29, size + 11))):
        with torch.no_grad():
            expected = pipeline(torch.from_numpy(images))
        for inferencer, tolerance in ((onnx, ORT_TOLERANCE), (openvino, OPENVINO_TOLERANCE)):
            result = inferencer.predict(images)
            assert result.pred_score.shape == (len(images),)
            assert result.anomaly_map.shape == (len(images), size, size)
            score_bound, map_bound = _bounds(saved.trained.stats, tolerance)
            np.testing.assert_allclose(result.pred_score, expected.pred_score.numpy(), rtol=0, atol=score_bound)
            np.testing.assert_allclose(result.anomaly_map, expected.anomaly_map.numpy(), rtol=0, atol=map_bound)
    # Parity between constant outputs would prove nothing: the validation images must be told apart.
    scores = expected.pred_score.numpy()
    assert scores.max() - scores.min() > 10 * _bounds(saved.trained.stats, OPENVINO_TOLERANCE)[0]
    runtimes = [(onnx, ORT_TOLERANCE), (openvino, OPENVINO_TOLERANCE)]
    _verdicts_agree(images, scores, [(runtime, _bounds(saved.trained.stats, bound)[0]) for runtime, bound in runtimes])


def _verdicts_agree(images: np.ndarray, torch_scores: np.ndarray, runtimes) -> None:
    """The hosting verdict from each runtime's output matches torch's at the thresholds a policy sets: halfway
    between adjacent distinct test scores (`with_margin`), on a scale where distinct scores stay distinct. Thresholds
    closer to a score than the runtime's parity bound are skipped: there either verdict is within that bound."""
    distinct = np.unique(torch_scores.astype(np.float64))
    assert distinct.size == torch_scores.size, "the unsaturated scale gave two images one score"
    assert 0.0 < distinct.min() and distinct.max() < 1.0
    thresholds = [with_margin(float(score), distinct) for score in distinct]
    size = (images.shape[1], images.shape[2])
    for inferencer, tolerance in runtimes:
        clear = [t for t in thresholds if np.min(np.abs(distinct - t)) > tolerance]
        assert clear, "every threshold is within the parity bound of a score: nothing to compare"
        result = inferencer.predict(images)
        for threshold in clear:
            for index, score in enumerate(result.pred_score):
                verdict = judge(float(score), result.anomaly_map[index], image_threshold=threshold, size=size)
                assert verdict.is_anomalous == bool(torch_scores[index] >= threshold)

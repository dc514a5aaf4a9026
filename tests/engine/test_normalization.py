import json
from pathlib import Path

import numpy as np
import onnxruntime
import openvino
import pytest
import torch

from service.engine.metrics import f1_max
from service.engine.normalization import (
    NORMAL_ONLY_QUANTILE,
    NormalizationStats,
    ScoreNormalizer,
    ScoreScale,
    compute_stats,
)
from service.engine.types import InferenceBatch


def _validation_outputs(seed: int = 0, n: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.array([0] * (n // 2) + [1] * (n // 2))
    masks = np.zeros((n, 16, 16), dtype=np.float32)
    masks[n // 2 :, 4:9, 5:10] = 1.0
    maps = (rng.normal(2.0, 0.5, masks.shape) + 3.0 * masks).astype(np.float32)
    scores = maps.reshape(n, -1).max(axis=1) + rng.normal(0, 0.3, n)
    return scores, labels, maps, masks


def test_compute_stats_with_both_classes_and_masks() -> None:
    scores, labels, maps, masks = _validation_outputs()
    stats = compute_stats(scores, labels, maps, masks)
    _, f1_threshold = f1_max(labels, scores)
    assert stats.image_threshold <= f1_threshold
    assert not np.any((scores >= stats.image_threshold) != (scores >= f1_threshold))
    assert (stats.min_score, stats.max_score) == (pytest.approx(scores.min()), pytest.approx(scores.max()))
    assert (stats.min_pixel, stats.max_pixel) == (pytest.approx(maps.min()), pytest.approx(maps.max()))
    assert 2.5 < stats.pixel_threshold < 5.0  # between the normal (~2) and defect (~5) pixel levels
    assert compute_stats(scores, labels, maps).pixel_threshold == stats.image_threshold


def test_anomalous_images_without_masks_do_not_count_as_defect_free() -> None:
    scores, labels, maps, masks = _validation_outputs()
    unannotated = masks.copy()
    unannotated[-3:] = 0.0
    with_partial_masks = compute_stats(scores, labels, maps, unannotated)
    only_annotated = compute_stats(scores[:-3], labels[:-3], maps[:-3], masks[:-3])
    assert with_partial_masks.pixel_threshold == only_annotated.pixel_threshold


def test_compute_stats_on_normal_images_only() -> None:
    scores, _, maps, _ = _validation_outputs()
    normal = slice(0, 8)
    stats = compute_stats(scores[normal], np.zeros(8), maps[normal], np.zeros_like(maps[normal]))
    assert stats.image_threshold == pytest.approx(np.quantile(scores[normal], NORMAL_ONLY_QUANTILE))
    assert stats.pixel_threshold == stats.image_threshold
    with pytest.raises(ValueError, match="normal validation images"):
        compute_stats(scores[8:], np.ones(8), maps[8:])
    with pytest.raises(ValueError, match="scores"):
        compute_stats(scores, np.zeros(15), maps)


def test_stats_round_trip_through_json_and_validate() -> None:
    stats = NormalizationStats(1.5, 2.5, 0.0, 4.0, -1.0, 6.0)
    assert NormalizationStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    with pytest.raises(ValueError, match="missing"):
        NormalizationStats.from_dict({"image_threshold": 1.0})
    with pytest.raises(ValueError, match="finite"):
        NormalizationStats(float("nan"), 0.0, 0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="minimum above maximum"):
        NormalizationStats(0.5, 0.5, 2.0, 1.0, 0.0, 1.0)


def test_the_clipped_scale_of_old_models_puts_thresholds_at_half_and_clips() -> None:
    stats = NormalizationStats(
        image_threshold=2.0, pixel_threshold=1.0, min_score=0.0, max_score=4.0, min_pixel=-1.0, max_pixel=3.0
    )
    normalizer = ScoreNormalizer(stats, ScoreScale.CLIPPED)
    out = normalizer(InferenceBatch(torch.tensor([2.0, 3.0, 1.0, 100.0, -100.0]), torch.tensor([[[1.0, 2.0, -5.0]]])))
    assert out.pred_score.tolist() == pytest.approx([0.5, 0.75, 0.25, 1.0, 0.0])
    assert out.anomaly_map.reshape(-1).tolist() == pytest.approx([0.5, 0.75, 0.0])
    assert isinstance(out, InferenceBatch)


# Threshold 1 sits low in the range [0, 9]: the clipped scale maps everything from 5.5 up onto 1.0.
SKEWED = NormalizationStats(
    image_threshold=1.0, pixel_threshold=1.0, min_score=0.0, max_score=9.0, min_pixel=0.0, max_pixel=9.0
)


def _scores(normalizer: ScoreNormalizer, raw: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return normalizer(InferenceBatch(torch.from_numpy(raw), torch.zeros(1, 1, 1))).pred_score.numpy()


def test_the_unsaturated_scale_is_piecewise_linear_inside_the_range() -> None:
    normalizer = ScoreNormalizer(SKEWED)
    raw = np.array([0.0, 0.5, 1.0, 5.0, 9.0], dtype=np.float32)
    assert _scores(normalizer, raw).tolist() == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    maps = normalizer(InferenceBatch(torch.zeros(1), torch.tensor([[[0.0, 1.0, 9.0]]]))).anomaly_map
    assert maps.reshape(-1).tolist() == pytest.approx([0.1, 0.5, 0.9])


def test_the_unsaturated_scale_never_merges_distinct_scores_that_the_clipped_one_merges() -> None:
    raw = np.linspace(-50.0, 60.0, 2001, dtype=np.float32)
    clipped = _scores(ScoreNormalizer(SKEWED, ScoreScale.CLIPPED), raw)
    unsaturated = _scores(ScoreNormalizer(SKEWED), raw)
    assert np.sum(clipped == 1.0) > 500
    assert np.all(np.diff(unsaturated) > 0)
    assert 0.0 < unsaturated.min() and unsaturated.max() < 1.0
    far = _scores(ScoreNormalizer(SKEWED), np.array([1e3, 1e3 + 8.0], dtype=np.float32))
    assert far[0] < far[1] < 1.0


def test_the_tails_meet_the_linear_parts_with_the_same_slope() -> None:
    normalizer = ScoreNormalizer(SKEWED)
    step = 1e-3
    for edge, span in ((9.0, 8.0), (0.0, 1.0)):
        raw = torch.tensor([edge - step, edge, edge + step], dtype=torch.float64)
        values = normalizer(InferenceBatch(raw, torch.zeros(1, 1, 1))).pred_score.numpy()
        left, right = (values[1] - values[0]) / step, (values[2] - values[1]) / step
        assert left == pytest.approx(0.4 / span, rel=1e-2)
        assert right == pytest.approx(0.4 / span, rel=1e-2)


def test_a_threshold_at_an_end_of_the_range_borrows_the_whole_range() -> None:
    at_minimum = NormalizationStats(0.0, 0.0, 0.0, 4.0, 0.0, 4.0)
    assert _scores(ScoreNormalizer(at_minimum), np.array([-4.0, 0.0, 4.0], dtype=np.float32)).tolist() == (
        pytest.approx([0.1, 0.5, 0.9])
    )
    constant = NormalizationStats(3.0, 3.0, 3.0, 3.0, 3.0, 3.0)
    values = _scores(ScoreNormalizer(constant), np.array([2.0, 3.0, 4.0], dtype=np.float32))
    assert values.tolist() == pytest.approx([0.1, 0.5, 0.9])


def test_normalizer_stats_live_in_buffers() -> None:
    stats = NormalizationStats(2.0, 1.0, 0.0, 4.0, -1.0, 3.0)
    source = ScoreNormalizer(stats)
    assert source.stats == stats
    target = ScoreNormalizer()
    assert set(target.state_dict()) == set(stats.to_dict())
    target.load_state_dict(source.state_dict())
    assert target.stats == stats
    target.set_stats(NormalizationStats(0.5, 0.5, 0.0, 2.0, 0.0, 1.0))
    assert target(InferenceBatch(torch.tensor([1.25]), torch.zeros(1, 2, 2))).pred_score.item() == pytest.approx(0.7)


class _Pipeline(torch.nn.Module):
    def __init__(self, stats: NormalizationStats, scale: ScoreScale) -> None:
        super().__init__()
        self.normalizer = ScoreNormalizer(stats, scale)

    def forward(self, pred_score: torch.Tensor, anomaly_map: torch.Tensor) -> InferenceBatch:
        return self.normalizer(InferenceBatch(pred_score, anomaly_map))


@pytest.mark.parametrize("scale", list(ScoreScale))
@pytest.mark.parametrize("dynamo", [True, False])
def test_normalizer_exports_and_matches_in_onnxruntime_and_openvino(
    tmp_path: Path, dynamo: bool, scale: ScoreScale
) -> None:
    model = _Pipeline(NormalizationStats(2.0, 1.0, 0.0, 4.0, -1.0, 3.0), scale).eval()
    path = tmp_path / "normalizer.onnx"
    names = {"input_names": ["raw_score", "raw_map"], "output_names": list(InferenceBatch._fields)}
    if dynamo:
        batch, height, width = (torch.export.Dim(name) for name in ("batch", "height", "width"))
        shapes = {"dynamic_shapes": ({0: batch}, {0: batch, 1: height, 2: width})}
    else:
        shapes = {"dynamic_axes": {"raw_score": {0: "b"}, "raw_map": {0: "b", 1: "h", 2: "w"}}}
    torch.onnx.export(model, (torch.rand(2), torch.rand(2, 8, 8)), path, dynamo=dynamo, **names, **shapes)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [output.name for output in session.get_outputs()] == ["pred_score", "anomaly_map"]
    # Scores inside the range, at its ends and far out in both tails.
    raw_score = np.array([-300.0, -1.0, 0.0, 2.0, 3.5, 4.0, 40.0, 4000.0], dtype=np.float32)
    raw_map = np.random.default_rng(0).normal(1.0, 2.0, (8, 5, 7)).astype(np.float32)
    expected = model(torch.from_numpy(raw_score), torch.from_numpy(raw_map))
    compiled = openvino.compile_model(openvino.convert_model(str(path)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    openvino_outputs = compiled([raw_score, raw_map])
    for score, anomaly_map in (
        session.run(None, {"raw_score": raw_score, "raw_map": raw_map}),
        (openvino_outputs[0], openvino_outputs[1]),
    ):
        np.testing.assert_allclose(score, expected.pred_score.numpy(), atol=1e-6)
        np.testing.assert_allclose(anomaly_map, expected.anomaly_map.numpy(), atol=1e-6)
        if scale is ScoreScale.UNSATURATED:
            assert np.all(np.diff(score) > 0)

"""Confidence in the verdict and the autoscaling decision: the documented formulas, pinned."""

import io

import numpy as np
import pytest
from PIL import Image

from service.engine.palette import ClassPalette, DefectClass, hex_rgb
from service.hosting.autoscaling import ScalingPolicy, desired_units
from service.hosting.verdict import judge, mask_png, verdict_confidence


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.9])
def test_confidence_is_one_half_at_the_threshold_and_one_at_either_end(threshold: float) -> None:
    assert verdict_confidence(threshold, threshold) == pytest.approx(0.5)
    assert verdict_confidence(1.0, threshold) == pytest.approx(1.0)
    assert verdict_confidence(0.0, threshold) == pytest.approx(1.0)


def test_confidence_grows_with_the_distance_from_the_threshold_on_both_sides() -> None:
    above = [verdict_confidence(score, 0.5) for score in (0.55, 0.7, 0.9)]
    below = [verdict_confidence(score, 0.5) for score in (0.45, 0.3, 0.1)]
    assert above == sorted(above) and below == sorted(below)
    assert verdict_confidence(0.75, 0.5) == pytest.approx(0.75)
    assert verdict_confidence(0.3, 0.6) == pytest.approx(0.75)


def test_confidence_stays_defined_at_extreme_thresholds() -> None:
    assert verdict_confidence(1.0, 1.0) == 1.0
    assert verdict_confidence(0.0, 0.0) == pytest.approx(0.5)


POLICY = ScalingPolicy(up_utilisation=0.75, down_utilisation=0.25, down_after_s=30)


def decide(current: int, utilisation: float, queue_depth: int = 0, low_for: float = 0.0) -> int:
    return desired_units(
        current=current,
        min_units=1,
        max_units=3,
        utilisation=utilisation,
        queue_depth=queue_depth,
        low_load_for_s=low_for,
        policy=POLICY,
    )


def test_scaling_adds_one_unit_at_a_time_up_to_the_maximum() -> None:
    assert decide(1, 0.9) == 2
    assert decide(1, 0.1, queue_depth=3) == 2
    assert decide(3, 1.0, queue_depth=10) == 3


def test_scaling_removes_a_unit_only_after_a_quiet_spell_and_never_below_the_minimum() -> None:
    assert decide(2, 0.1, low_for=10) == 2
    assert decide(2, 0.1, low_for=30) == 1
    assert decide(1, 0.0, low_for=1000) == 1
    assert decide(2, 0.5, low_for=1000) == 2


def test_each_defect_region_is_named_and_painted_by_the_class_its_pixels_vote_for() -> None:
    anomaly_map = np.zeros((8, 8), dtype=np.float32)
    anomaly_map[1:3, 1:3] = anomaly_map[5:7, 4:8] = 0.9
    class_scores = np.zeros((2, 8, 8), dtype=np.float32)
    class_scores[0, :, :4], class_scores[1, :, 4:] = 0.8, 0.7  # "dent" on the left, "scratch" on the right
    class_scores[1, 1, 1] = 1.0  # one pixel of the left region leans the other way; the region's vote does not
    palette = ClassPalette((DefectClass("dent", "#1f77b4"), DefectClass("scratch", "#2ca02c")), "#000000")
    verdict = judge(0.9, anomaly_map, image_threshold=0.5, size=(8, 8), class_scores=class_scores, palette=palette)
    assert [(a.name, a.color) for a in verdict.anomalies] == [("dent", "#1f77b4"), ("scratch", "#2ca02c")]
    assert [a.area_percentage for a in verdict.anomalies] == pytest.approx([100 * 4 / 64, 100 * 8 / 64])
    assert verdict.anomaly_fraction == pytest.approx(12 / 64) and verdict.background_color == "#000000"
    painted = np.asarray(Image.open(io.BytesIO(verdict.mask_png)).convert("RGB"))
    assert (painted[1:3, 1:3] == [0x1F, 0x77, 0xB4]).all() and (painted[5:7, 4:8] == [0x2C, 0xA0, 0x2C]).all()
    assert (painted[0] == 0).all()


def test_a_model_without_classes_answers_anomaly_in_red_on_white() -> None:
    anomaly_map = np.zeros((8, 8), dtype=np.float32)
    anomaly_map[2:4, 2:4] = 0.9
    verdict = judge(0.9, anomaly_map, image_threshold=0.5, size=(8, 8))
    assert [(a.name, a.color) for a in verdict.anomalies] == [("anomaly", "#FF0000")]
    assert verdict.background_color == "#FFFFFF"
    painted = np.asarray(Image.open(io.BytesIO(verdict.mask_png)).convert("RGB"))
    assert (painted[2:4, 2:4] == [255, 0, 0]).all() and (painted[0] == 255).all()


@pytest.mark.parametrize(("classes", "bit_depth"), [(1, 1), (3, 2), (5, 4), (20, 8)])
def test_the_mask_png_uses_the_fewest_bits_and_decodes_to_the_same_mask(classes: int, bit_depth: int) -> None:
    palette = ClassPalette(
        tuple(DefectClass(f"defect-{index}", f"#{index * 12:02X}00{255 - index:02X}") for index in range(classes)),
        "#FFFFFF",
    )
    rng = np.random.default_rng(classes)
    class_mask = rng.integers(0, classes + 1, size=(37, 53)).astype(np.uint8)
    png = mask_png(class_mask, palette)
    assert png[24] == bit_depth  # IHDR bit depth
    decoded = Image.open(io.BytesIO(png))
    assert decoded.mode == "P" and np.array_equal(np.asarray(decoded), class_mask)
    colours = np.asarray(decoded.convert("RGB"))
    for index, defect in enumerate(palette.classes, start=1):
        assert (colours[class_mask == index] == hex_rgb(defect.color)).all()
    assert (colours[class_mask == 0] == [255, 255, 255]).all()


def test_a_normal_images_mask_is_encoded_once_per_size_and_palette_and_is_all_background() -> None:
    palette = ClassPalette((DefectClass("scratch", "#00FF00"), DefectClass("dent", "#0000FF")), "#101010")
    first = mask_png(np.zeros((31, 45), dtype=np.uint8), palette)
    assert mask_png(np.zeros((31, 45), dtype=np.uint8), palette) is first
    assert mask_png(np.zeros((45, 31), dtype=np.uint8), palette) is not first
    assert mask_png(np.zeros((31, 45), dtype=np.uint8)) is not first
    decoded = Image.open(io.BytesIO(first))
    assert decoded.size == (45, 31) and not np.asarray(decoded).any()
    assert (np.asarray(decoded.convert("RGB")) == [16, 16, 16]).all()
    assert first[24] == 2  # three colours: 2 bits, as an anomalous image's mask with this palette

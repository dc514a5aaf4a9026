import numpy as np
import pytest
import torch

from service.engine.postprocess import (
    Box,
    affected_area_percentage,
    anomaly_mask,
    bounding_boxes,
    peak_region,
    postprocess,
    resize_map,
)


def _two_blobs() -> np.ndarray:
    anomaly_map = np.zeros((20, 30), dtype=np.float32)
    anomaly_map[2:6, 3:10] = 0.8  # 4 x 7 = 28 pixels
    anomaly_map[12, 20] = 0.95  # a lone pixel
    anomaly_map[13, 21] = 0.6  # touching it diagonally: same region
    return anomaly_map


def test_anomaly_mask_is_inclusive_and_accepts_tensors() -> None:
    mask = anomaly_mask(torch.from_numpy(_two_blobs())[None], 0.8)
    assert mask.dtype == bool and mask.shape == (20, 30) and mask.sum() == 29


def test_bounding_boxes_per_eight_connected_region() -> None:
    anomaly_map = _two_blobs()
    boxes = bounding_boxes(anomaly_map > 0.5, anomaly_map=anomaly_map)
    assert boxes == [
        Box(x=20, y=12, width=2, height=2, area=2, score=pytest.approx(0.95)),
        Box(x=3, y=2, width=7, height=4, area=28, score=pytest.approx(0.8)),
    ]
    assert [b.area for b in bounding_boxes(anomaly_map > 0.5, min_area=3)] == [28]
    assert bounding_boxes(anomaly_map > 0.5)[0].score is None
    assert bounding_boxes(np.zeros((5, 5), dtype=bool)) == []
    with pytest.raises(ValueError, match="differ in shape"):
        bounding_boxes(anomaly_map > 0.5, anomaly_map=anomaly_map[:-1])


def test_affected_area_percentage() -> None:
    mask = np.zeros((10, 20), dtype=bool)
    mask[:5, :4] = True
    assert affected_area_percentage(mask) == pytest.approx(10.0)
    assert affected_area_percentage(np.ones((3, 3))) == 100.0


def test_resize_map_brings_the_map_to_height_width() -> None:
    anomaly_map = np.zeros((8, 8), dtype=np.float32)
    anomaly_map[:, 4:] = 1.0
    resized = resize_map(anomaly_map, (16, 40))
    assert resized.shape == (16, 40) and resized.dtype == np.float32
    assert resized[:, :15].max() == 0.0 and resized[:, 25:].min() == 1.0
    assert np.allclose(resized.mean(), 0.5, atol=0.01)
    with pytest.raises(ValueError, match="positive"):
        resize_map(anomaly_map, (0, 4))


def test_postprocess_anomalous_image_at_original_size() -> None:
    small_map = np.zeros((16, 16), dtype=np.float32)
    small_map[4:8, 4:8] = 0.9
    detection = postprocess(
        torch.tensor([0.7]),
        torch.from_numpy(small_map)[None],
        image_threshold=0.5,
        pixel_threshold=0.5,
        original_size=(64, 128),
    )
    assert detection.is_anomalous and detection.score == pytest.approx(0.7)
    assert detection.mask.shape == detection.anomaly_map.shape == (64, 128)
    assert len(detection.boxes) == 1
    box = detection.boxes[0]
    assert (box.x, box.y) == pytest.approx((32, 16), abs=3) and (box.width, box.height) == pytest.approx(
        (32, 16), abs=4
    )
    assert detection.area_percentage == pytest.approx(100 * 16 * 32 / (64 * 128), rel=0.2)


def test_postprocess_normal_image_reports_no_defects() -> None:
    small_map = np.full((16, 16), 0.9, dtype=np.float32)
    detection = postprocess(0.2, small_map, image_threshold=0.5, pixel_threshold=0.5, original_size=(16, 16))
    assert not detection.is_anomalous
    assert not detection.mask.any() and detection.boxes == [] and detection.area_percentage == 0.0
    assert detection.anomaly_map.max() == pytest.approx(0.9)
    with pytest.raises(ValueError, match="one image score"):
        postprocess(np.array([0.1, 0.2]), small_map, image_threshold=0.5, pixel_threshold=0.5, original_size=(4, 4))


def test_an_anomalous_image_whose_map_stays_below_the_pixel_threshold_marks_the_region_around_its_peak() -> None:
    small_map = np.full((16, 16), 0.1, dtype=np.float32)
    small_map[10:13, 2:5] = 0.3
    small_map[11, 3] = 0.45
    small_map[1, 14] = 0.2  # a second, weaker bump: not part of the peak's region

    detection = postprocess(0.87, small_map, image_threshold=0.5, pixel_threshold=0.5, original_size=(16, 16))

    assert detection.is_anomalous and detection.mask.any()
    assert np.array_equal(detection.mask, peak_region(small_map))
    expected = np.zeros((16, 16), dtype=bool)
    expected[10:13, 2:5] = True
    assert np.array_equal(detection.mask, expected)
    assert [(box.x, box.y, box.width, box.height) for box in detection.boxes] == [(2, 10, 3, 3)]
    assert detection.area_percentage == pytest.approx(100 * 9 / 256)


def test_peak_region_of_a_flat_map_is_the_whole_image() -> None:
    assert peak_region(np.zeros((4, 5), dtype=np.float32)).all()

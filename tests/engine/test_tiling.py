"""Tiling: the grid and the stitching alone, then a tiled model end to end on large images with few-pixel defects
(detection lifted from chance; training-time scores, ONNX Runtime, OpenVINO and the hosting predictor agree)."""

from pathlib import Path

import numpy as np
import pytest

from service.engine import artifacts
from service.engine.data import mvtec_records
from service.engine.errors import EngineError
from service.engine.inference import load_inferencer, read_tiling, to_rgb_array
from service.engine.inference.tiled import calibration_tiles
from service.engine.synthetic import make_small_defect_dataset
from service.engine.tiling import (
    Stitcher,
    TileLayout,
    blend_weights,
    default_tile_size,
    resolve_layout,
    split_tiling,
    tile_grid,
)
from service.engine.training import fit
from service.hosting.predictor import load_predictor

# A small from-scratch model whose normal-patch memory dominates its barely trained network: on 384-px images a 3-px pin
# hole is a fraction of a pixel once the image is resized to 64 px, and full size on 64-px tiles.
TINY_DRAEM = {
    "image_size": 64,
    "base_channels": 8,
    "depth": 2,
    "max_steps": 5,
    "batch_size": 8,
    "memory_size": 256,
    "memory_weight": 4.0,
}
SIZE = 384


def test_grid_covers_the_image_with_equal_tiles_touching_both_borders():
    grid = tile_grid(300, 200, 64, 0.25)
    assert (grid.tile_height, grid.tile_width) == (64, 64)
    assert grid.tops[0] == 0 and grid.tops[-1] == 300 - 64
    assert grid.lefts[0] == 0 and grid.lefts[-1] == 200 - 64
    covered = np.zeros((300, 200), dtype=int)
    for top, left in grid.origins:
        covered[top : top + 64, left : left + 64] += 1
    assert covered.min() >= 1
    assert max(np.diff(grid.tops)) <= 48  # stride = tile * (1 - overlap)


def test_grid_of_an_image_smaller_than_a_tile_is_the_image():
    grid = tile_grid(40, 500, 64, 0.0)
    assert (grid.tile_height, len(grid.tops)) == (40, 1)
    assert len(grid.lefts) == 8 and grid.lefts[-1] == 500 - 64


def test_calibration_tiles_are_tiles_the_graph_sees_spread_over_each_image():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (300, 200, 3), dtype=np.uint8), rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)]
    layout = TileLayout(tile_size=64, overlap=0.25, batch_size=4)
    tiles = list(calibration_tiles(iter(images), layout, per_image=3))
    big, small = tile_grid(300, 200, 64, 0.25), tile_grid(40, 70, 64, 0.25)
    assert len(tiles) == 3 + len(small) and len(small) < 3
    assert all(tile.shape == (64, 64, 3) for tile in tiles[:3])
    assert np.array_equal(tiles[0], big.cut(images[0], *big.origins[0]))
    assert np.array_equal(tiles[2], big.cut(images[0], *big.origins[-1])), "the last tile of the grid, not the first 3"
    assert all(tile.shape == (40, 64, 3) for tile in tiles[3:])


def test_stitching_a_constant_gives_the_constant_and_blending_fades_seams():
    grid = tile_grid(200, 200, 64, 0.5)
    stitcher = Stitcher(grid, 32, 0.5)
    for top, left in grid.origins:
        stitcher.add((top, left), np.full((32, 32), 0.7, dtype=np.float32))
    stitched = stitcher.finish()
    assert stitched.shape == (100, 100)
    np.testing.assert_allclose(stitched, 0.7, rtol=1e-5)
    weights = blend_weights(32, 0.25)
    assert weights[16, 16] == 1.0 and weights[0, 0] < 0.01
    assert np.all(blend_weights(32, 0.0) == 1.0)


def test_stitching_puts_a_tile_value_back_where_it_came_from():
    grid = tile_grid(128, 128, 64, 0.0)
    stitcher = Stitcher(grid, 64, 0.0)
    for top, left in grid.origins:
        tile_map = np.zeros((64, 64), dtype=np.float32)
        if (top, left) == (64, 0):
            tile_map[10, 20] = 1.0
        stitcher.add((top, left), tile_map)
    stitched = stitcher.finish()
    assert np.argwhere(stitched == 1.0).tolist() == [[74, 20]]


def test_tiling_settings_come_out_of_any_models_hyperparameters():
    settings, rest = split_tiling({"tile_size": "auto", "tile_overlap": "0.5", "image_size": "128"})
    assert (settings.tile_size, settings.tile_overlap, rest) == ("auto", 0.5, {"image_size": "128"})
    assert not split_tiling({})[0].enabled
    for bad in ({"tile_size": "8"}, {"tile_overlap": "1.0"}, {"tile_size": "big"}):
        with pytest.raises(EngineError, match="tiling"):
            split_tiling(bad)


def test_the_auto_tile_size_follows_the_image_and_input_sizes():
    assert default_tile_size(300, 300, 256) == 0  # close to the input size: no tiling
    assert default_tile_size(3000, 4000, 256) == 256  # 12 megapixels: native-resolution tiles
    assert default_tile_size(8000, 12000, 256) == 750  # at most 16 tiles along the long side
    auto, _ = split_tiling({"tile_size": "auto"})
    assert resolve_layout(auto, (200, 200), 256) is None
    assert resolve_layout(auto, (1024, 768), 128) == TileLayout(128, 0.25, 16)


@pytest.fixture(scope="module")
def pinholes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pinholes")
    return make_small_defect_dataset(root, n_train=3, n_test_good=5, n_test_defect=5, size=SIZE, defect_pixels=3)


@pytest.fixture(scope="module")
def tiled_model(pinholes: Path, tmp_path_factory: pytest.TempPathFactory):
    hyperparameters = {**TINY_DRAEM, "tile_size": "64", "tile_overlap": "0.25", "tile_batch_size": "8"}
    train, test = mvtec_records(pinholes, "train"), mvtec_records(pinholes, "test")
    trained = fit("draem", train, test, hyperparameters=hyperparameters, accelerator="cpu")
    return trained, artifacts.save(trained, tmp_path_factory.mktemp("saved") / "model")


def test_tiling_lifts_few_pixel_defects_from_chance(pinholes, tiled_model):
    train, test = mvtec_records(pinholes, "train"), mvtec_records(pinholes, "test")
    whole = fit("draem", train, test, hyperparameters=TINY_DRAEM, accelerator="cpu")
    tiled, _ = tiled_model
    assert whole.tiling is None
    assert tiled.tiling == TileLayout(64, 0.25, 8)
    assert whole.evaluation.metrics["image_auroc"] <= 0.75
    assert tiled.evaluation.metrics["image_auroc"] >= 0.9
    assert tiled.evaluation.metrics["image_auroc"] >= whole.evaluation.metrics["image_auroc"] + 0.2


def test_training_onnx_runtime_openvino_and_hosting_agree_on_a_tiled_model(pinholes, tiled_model):
    trained, folder = tiled_model
    assert read_tiling(folder) == trained.tiling
    assert artifacts.load(folder).tiling == trained.tiling
    records = mvtec_records(pinholes, "test")
    expected = np.array([image.score for image in trained.evaluation.images])
    onnx, openvino = load_inferencer(folder, "onnx"), load_inferencer(folder, "openvino")
    hosted = load_predictor(folder, runtime="onnx", threads=1)
    for record, score in zip(records, expected, strict=True):
        body = Path(record.image).read_bytes()
        by_onnx, by_openvino = onnx.predict_image(body), openvino.predict_image(body)
        # Training's evaluation scores come from normalised tile maps stitched as the inferencers stitch them.
        assert by_onnx.score == pytest.approx(score, abs=1e-4)
        assert by_openvino.score == pytest.approx(by_onnx.score, abs=1e-3)
        np.testing.assert_allclose(by_openvino.anomaly_map, by_onnx.anomaly_map, atol=1e-3)
        assert by_onnx.anomaly_map.shape == (SIZE, SIZE)
        assert by_onnx.is_anomalous == (score >= 0.5)
        hosted_scores, hosted_maps, _ = hosted.predict(to_rgb_array(body)[None])
        assert hosted_scores[0] == pytest.approx(by_onnx.score, abs=1e-6)
        assert hosted_maps.shape == (1, SIZE, SIZE)

"""A tiled model through the whole service: TileSize at CreateModel (SDK), training on tiles in the job runner, and a
hosting unit that stitches detections at the images' full size with the scores training computed."""

import hashlib

import pytest

import sdk
from service.engine.synthetic import make_small_defect_dataset
from tests.sdk.conftest import sdk_client

TINY_DRAEM = {"base_channels": "8", "depth": "2", "max_steps": "5", "memory_size": "256", "memory_weight": "4"}


@pytest.fixture(scope="module")
def tiled(server, tmp_path_factory):
    root = make_small_defect_dataset(
        tmp_path_factory.mktemp("pinholes"), n_train=10, n_test_good=10, n_test_defect=10, size=128, defect_pixels=2
    )
    client = sdk_client(server)
    project = sdk.Project.create("sdk-tiled", client=client)
    project.datasets.import_mvtec(root)
    model = project.train(algorithm="draem", image_size=64, tile_size=64, hyperparameters=TINY_DRAEM).wait(timeout=600)
    yield project, model, root
    project.delete(force=True)
    client.close()


def test_a_tiled_model_trains_hosts_and_detects_at_full_size(tiled):
    _, model, root = tiled
    assert model.status == "TRAINED"
    assert model.hyperparameters is not None and model.hyperparameters["tile_size"] == "64"
    scored = {image.source_ref.rsplit("/", 1)[-1].removesuffix(".png"): image for image in model.metrics.images}
    model.start(min_units=1)
    try:
        defect = min((root / "test" / "pinhole").glob("*.png"))
        result = model.detect(defect)
        mask = result.mask_array
        assert mask is not None and mask.shape == (128, 128)
        expected = scored[hashlib.sha256(defect.read_bytes()).hexdigest()].score
        # The unit reports the score for an anomalous verdict and its complement for a normal one.
        assert min(abs(result.confidence - expected), abs(result.confidence - (1 - expected))) < 1e-2
    finally:
        model.stop()

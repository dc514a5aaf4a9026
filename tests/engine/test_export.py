"""The export pipeline's resize, the ONNX graph's interface and the saved artefacts."""

import json
import shutil

import onnx
import pytest
import torch
import torch.nn.functional as F

from service.engine import artifacts
from service.engine.errors import EngineError, TrainingCancelledError
from service.engine.export import AntialiasedResize, export_pipeline
from service.engine.inference.layout import METADATA_FILE, ONNX_FILE
from service.engine.normalization import ScoreScale
from service.engine.types import InferenceBatch

MODEL = "patchcore"  # its memory bank is a buffer whose size is only known after training


@pytest.mark.parametrize("height, width", [(64, 64), (300, 200), (37, 1000), (7, 90), (128, 31)])
def test_resize_matches_the_data_modules_antialiased_interpolation(height, width):
    images = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(height * width))
    expected = F.interpolate(images, size=(64, 64), mode="bilinear", align_corners=False, antialias=True)
    torch.testing.assert_close(AntialiasedResize(64)(images), expected, rtol=0, atol=1e-6)


def test_onnx_graph_takes_any_uint8_image_size_and_names_outputs_after_inference_batch(saved_model):
    graph = onnx.load(saved_model(MODEL).folder / ONNX_FILE).graph
    (image,) = graph.input
    assert image.name == "image"
    assert image.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = image.type.tensor_type.shape.dim
    assert [bool(dim.dim_param) for dim in dims] == [True, True, True, False] and dims[3].dim_value == 3
    assert [output.name for output in graph.output] == ["pred_score", "anomaly_map"]


def test_metadata_describes_the_model(saved_model):
    saved = saved_model(MODEL)
    metadata = json.loads((saved.folder / METADATA_FILE).read_text())
    assert metadata["model_name"] == MODEL
    assert metadata["image_size"] == saved.trained.image_size
    assert metadata["normalization"] == saved.trained.stats.to_dict()
    assert metadata["thresholds"] == {"image": 0.5, "pixel": 0.5}
    assert metadata["metrics"] == saved.trained.evaluation.metrics
    assert len(metadata["evaluation"]) == len(saved.trained.evaluation.images)
    assert {"torch", "onnx", "onnxruntime", "openvino"} <= metadata["versions"].keys()
    assert sorted(p.name for p in saved.folder.rglob("*")) == sorted(
        ["model.pt", "metadata.json", "model.onnx", "openvino", "model.xml", "model.bin"]
    )


def test_load_rebuilds_the_same_model_without_pretrained_weights(saved_model, tiny_data):
    saved = saved_model(MODEL)
    loaded = artifacts.load(saved.folder)
    assert loaded.model_name == MODEL
    assert loaded.hyperparameters == saved.trained.hyperparameters
    assert loaded.stats == saved.trained.stats
    assert loaded.evaluation == saved.trained.evaluation
    images = torch.randint(0, 256, (3, 70, 90, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        original, reloaded = export_pipeline(saved.trained)(images), export_pipeline(loaded)(images)
    torch.testing.assert_close(reloaded, original, rtol=0, atol=0)


def test_a_checkpoint_saved_before_score_scales_loads_on_the_clipped_scale(saved_model, tmp_path):
    saved = saved_model(MODEL)
    assert artifacts.read_metadata(saved.folder)["score_scale"] == "unsaturated"
    old = tmp_path / "old-model"
    shutil.copytree(saved.folder, old)
    checkpoint = torch.load(old / "model.pt", map_location="cpu", weights_only=True)
    del checkpoint["score_scale"]
    torch.save(checkpoint, old / "model.pt")
    loaded = artifacts.load(old)
    assert loaded.score_scale is ScoreScale.CLIPPED
    assert loaded.stats == saved.trained.stats
    raw = torch.tensor([loaded.stats.max_score + 10 * (loaded.stats.max_score - loaded.stats.min_score)])
    assert loaded.normalizer()(InferenceBatch(raw, torch.zeros(1, 1, 1))).pred_score.item() == 1.0


def test_save_refuses_to_overwrite_and_leaves_nothing_when_cancelled(saved_model, tmp_path):
    trained = saved_model(MODEL).trained
    with pytest.raises(EngineError, match="already exists"):
        artifacts.save(trained, saved_model(MODEL).folder)
    steps: list[str] = []
    with pytest.raises(TrainingCancelledError):
        artifacts.save(
            trained, tmp_path / "model", progress=lambda p: steps.append(p.message), cancel=lambda: bool(steps)
        )
    assert steps == ["saving the torch checkpoint"]
    assert list(tmp_path.iterdir()) == []

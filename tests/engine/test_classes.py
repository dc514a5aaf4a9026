"""Defect classes: a model fitted on masks whose colour map names two classes exports a class head that torch, ONNX
Runtime and OpenVINO run alike and that names each defect; models without classes keep answering `anomaly`."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from service.engine import artifacts
from service.engine.classes import learn_classes
from service.engine.data import ImageRecord, load_mask
from service.engine.export import export_pipeline
from service.engine.inference import OnnxInferencer, OpenVinoInferencer, load_inferencer, to_rgb_array
from service.engine.inference.layout import ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE
from service.engine.training import TrainedModel, fit
from service.hosting.verdict import judge
from tests.helpers.data import CLASS_COLOURS, class_defect_image, colour_map

KINDS = ("scratch", "blob")
COLOURS = tuple((colour, name) for name, colour in CLASS_COLOURS.items())
FAST = {"image_size": 64, "coreset_ratio": 0.5}


def _records(colours: tuple[tuple[str, str], ...] = COLOURS, kinds: tuple[str, ...] = KINDS) -> list[ImageRecord]:
    normal = [ImageRecord(class_defect_image(None, seed=300 + i)[0], 0, name=f"good-{i}") for i in range(6)]
    defects = []
    for index in range(8):
        kind = kinds[index % len(kinds)]
        image, mask = class_defect_image(kind, seed=400 + index)
        defects.append(ImageRecord(image, 1, mask, name=f"{kind}-{index}", mask_colors=colours))
    return normal + defects


@dataclass(frozen=True)
class Classified:
    trained: TrainedModel
    folder: Path


@pytest.fixture(scope="module")
def classified(tmp_path_factory: pytest.TempPathFactory) -> Classified:
    train = [ImageRecord(class_defect_image(None, seed=i)[0], 0, name=f"train-{i}") for i in range(8)]
    trained = fit("patchcore", train, _records(), hyperparameters=FAST, weights="random", accelerator="cpu")
    return Classified(trained, artifacts.save(trained, tmp_path_factory.mktemp("classified") / "model"))


def test_two_classes_give_a_palette_from_the_colour_map_and_a_head(classified: Classified) -> None:
    palette = classified.trained.palette
    assert palette is not None and classified.trained.class_head is not None
    assert [(c.name, c.color) for c in palette.classes] == [(k, CLASS_COLOURS[k]) for k in sorted(KINDS)]
    assert palette.background == CLASS_COLOURS["BACKGROUND"]
    reloaded = artifacts.load(classified.folder)
    assert reloaded.palette == palette
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(reloaded.class_head(images), classified.trained.class_head(images))


def test_class_scores_agree_across_torch_onnx_runtime_and_openvino(classified: Classified) -> None:
    pipeline = export_pipeline(classified.trained)
    onnx = OnnxInferencer(classified.folder / ONNX_FILE)
    openvino = OpenVinoInferencer(classified.folder / OPENVINO_DIR / OPENVINO_FILE)
    for size in (64, 93):
        images = np.stack(
            [to_rgb_array(class_defect_image(kind, seed=500 + i, size=size)[0]) for i, kind in enumerate(KINDS * 2)]
        )
        with torch.no_grad():
            expected = pipeline(torch.from_numpy(images)).class_scores.numpy()
        assert expected.shape == (4, 2, 64, 64)
        assert expected.max() - expected.min() > 0.5, "the head tells pixels apart"
        for inferencer, tolerance in ((onnx, 1e-4), (openvino, 1e-3)):
            result = inferencer.predict(images)
            assert result.class_scores is not None
            np.testing.assert_allclose(result.class_scores, expected, rtol=0, atol=tolerance)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_each_defect_is_named_by_its_class(classified: Classified, backend: str) -> None:
    inferencer = load_inferencer(classified.folder, backend)
    for index in range(6):
        kind = KINDS[index % 2]
        image, mask = class_defect_image(kind, seed=600 + index)
        detection = inferencer.predict_image(image)
        assert detection.is_anomalous
        assert [(c.name, c.color) for c in detection.classes] == [(kind, CLASS_COLOURS[kind])], (index, kind)
        (found,) = detection.classes
        truth = load_mask(mask, COLOURS)
        assert found.area_percentage == pytest.approx(detection.area_percentage)
        assert 100 * truth.mean() / 4 < found.area_percentage < 30
        assert (detection.class_mask[truth] > 0).mean() > 0.25, "the named region is where the defect is"
        verdict = judge(
            detection.score,
            inferencer.run(to_rgb_array(image)[None]).anomaly_map[0],
            image_threshold=0.5,
            size=truth.shape,
            class_scores=inferencer.run(to_rgb_array(image)[None]).class_scores[0],
            palette=inferencer.palette,
        )
        assert [(a.name, a.color) for a in verdict.anomalies] == [(kind, CLASS_COLOURS[kind])]
        assert verdict.background_color == CLASS_COLOURS["BACKGROUND"]
    assert inferencer.predict_image(class_defect_image(None, seed=699)[0]).classes == ()


def test_a_model_trained_without_classes_answers_anomaly(saved_model) -> None:
    saved = saved_model("patchcore")  # masks without a colour map
    assert saved.trained.palette is None and saved.trained.class_head is None
    image = to_rgb_array(class_defect_image("blob", seed=700)[0])
    for backend in ("onnx", "openvino"):
        inferencer = load_inferencer(saved.folder, backend)
        result = inferencer.run(image[None])
        assert result.class_scores is None and inferencer.palette is None
        verdict = judge(1.0, result.anomaly_map[0], image_threshold=0.5, size=(64, 64))
        assert verdict.is_anomalous
        assert [(a.name, a.color) for a in verdict.anomalies] == [("anomaly", "#FF0000")]
        assert verdict.background_color == "#FFFFFF"


def test_one_named_class_needs_no_head_and_the_generic_class_is_no_class() -> None:
    palette, head = learn_classes(_records(kinds=("blob",)), 64)
    assert palette is not None and palette.names == ["blob"] and head is None
    generic = (("#000000", "BACKGROUND"), ("#ffffff", "anomaly"))
    assert learn_classes(_records(colours=generic), 64) == (None, None)
    assert learn_classes(_records(colours=()), 64) == (None, None)


def test_a_colour_map_with_a_background_reads_every_other_colour_as_defect() -> None:
    _, mask = class_defect_image("scratch", seed=5)
    truth = load_mask(mask, COLOURS)
    assert 0 < truth.mean() < 0.2, "a white background is not a defect"
    unnamed = (("#ffffff", "BACKGROUND"),)
    np.testing.assert_array_equal(load_mask(mask, unnamed), truth)
    assert colour_map()["0"] == {"class-name": "BACKGROUND", "hex-color": "#ffffff", "confidence": 0.0}

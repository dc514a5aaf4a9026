"""Inferencers: inputs of every kind and size, single-image post-processing, thresholds, concurrent use."""

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from service.engine.inference import OnnxInferencer, load_inferencer
from service.engine.inference.layout import ONNX_FILE
from service.engine.postprocess import peak_region

MODEL = "patchcore"


@pytest.fixture(scope="module")
def inferencer(saved_model):
    return OnnxInferencer(saved_model(MODEL).folder / ONNX_FILE, threads=1)


def _images(tiny_data) -> list[np.ndarray]:
    return [np.asarray(Image.open(record.image).convert("RGB")) for record in tiny_data.val]


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_lists_of_mixed_kinds_and_sizes_come_back_in_input_order(inferencer, tiny_data):
    pixels = _images(tiny_data)[:4]
    big = np.asarray(Image.fromarray(pixels[1]).resize((90, 75)))
    mixed = [pixels[0], _png(big), Image.fromarray(pixels[2]), pixels[3]]
    result = inferencer.predict(mixed)
    one_by_one = [inferencer.predict(np.stack([image])) for image in (pixels[0], big, pixels[2], pixels[3])]
    np.testing.assert_allclose(result.pred_score, np.concatenate([r.pred_score for r in one_by_one]), atol=1e-6)
    np.testing.assert_allclose(result.anomaly_map, np.concatenate([r.anomaly_map for r in one_by_one]), atol=1e-6)


def test_grayscale_and_rgb_of_the_same_picture_score_the_same(inferencer, tiny_data):
    gray = np.asarray(Image.fromarray(_images(tiny_data)[0]).convert("L"))
    as_gray, as_rgb = inferencer.predict([gray]), inferencer.predict(np.repeat(gray[None, ..., None], 3, axis=3))
    np.testing.assert_array_equal(as_gray.pred_score, as_rgb.pred_score)


def test_predict_image_reports_at_the_original_size_with_the_half_thresholds(saved_model, tiny_data):
    inferencer = load_inferencer(saved_model(MODEL).folder)
    defect = next(record for record in tiny_data.val if record.label == 1)
    pixels = np.asarray(Image.open(defect.image).convert("RGB").resize((101, 77)))
    detection = inferencer.predict_image(_png(pixels))
    score = float(inferencer.predict(pixels[None]).pred_score[0])
    assert detection.score == pytest.approx(score, abs=1e-6)
    assert detection.is_anomalous == (score >= 0.5)
    assert detection.mask.shape == detection.anomaly_map.shape == (77, 101)
    if detection.is_anomalous:
        above = detection.anomaly_map >= 0.5
        assert np.array_equal(detection.mask, above if above.any() else peak_region(detection.anomaly_map))
        assert detection.mask.any()
    else:
        assert not detection.mask.any()


def test_thresholds_come_from_metadata_and_can_be_overridden(saved_model, tiny_data):
    strict = OnnxInferencer(saved_model(MODEL).folder / ONNX_FILE, image_threshold=1.01, pixel_threshold=1.01)
    assert not strict.predict_image(_images(tiny_data)[-1]).is_anomalous
    lenient = OnnxInferencer(saved_model(MODEL).folder / ONNX_FILE, image_threshold=0.0, pixel_threshold=0.0)
    detection = lenient.predict_image(_images(tiny_data)[0])
    assert detection.is_anomalous and detection.mask.all() and detection.area_percentage == 100.0


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_concurrent_calls_return_what_sequential_calls_do(saved_model, tiny_data, backend):
    inferencer = load_inferencer(saved_model(MODEL).folder, backend, threads=1)
    batches = [np.stack(_images(tiny_data)[i : i + 2]) for i in range(0, 12, 2)]
    sequential = [inferencer.predict(batch).anomaly_map for batch in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda batch: inferencer.predict(batch).anomaly_map, batches * 3))
    for index, maps in enumerate(concurrent):
        np.testing.assert_array_equal(maps, sequential[index % len(batches)])


@pytest.mark.parametrize(
    ("spinning", "allowed", "stopped_after_run"),
    [("always", None, None), ("during-run", None, "1"), ("never", "0", None)],
)
def test_each_spinning_mode_configures_the_session_and_scores_the_same(
    saved_model, tiny_data, inferencer, spinning, allowed, stopped_after_run
):
    chosen = OnnxInferencer(saved_model(MODEL).folder / ONNX_FILE, threads=2, spinning=spinning)
    options = chosen.session.get_session_options()
    assert _config_entry(options, "session.intra_op.allow_spinning") == allowed
    assert _config_entry(options, "session.force_spinning_stop") == stopped_after_run
    batch = np.stack(_images(tiny_data)[:2])
    np.testing.assert_allclose(chosen.predict(batch).anomaly_map, inferencer.predict(batch).anomaly_map, atol=1e-5)


def _config_entry(options, key: str) -> str | None:
    """The session's config entry, None when unset (ONNX Runtime raises for an unset key)."""
    try:
        return options.get_session_config_entry(key)
    except RuntimeError:
        return None


def test_bad_inputs_are_refused(inferencer, saved_model):
    with pytest.raises(ValueError, match="uint8"):
        inferencer.predict(np.zeros((1, 8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(B, H, W, 3\)"):
        inferencer.predict(np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="no images"):
        inferencer.predict([])
    with pytest.raises(ValueError, match="RGB"):
        inferencer.predict([np.zeros((8, 8, 4), dtype=np.uint8)])
    with pytest.raises(ValueError, match="unknown inference backend"):
        load_inferencer(saved_model(MODEL).folder, "tensorrt")  # type: ignore[arg-type]


def test_inferencers_load_neither_torch_lightning_nor_the_service():
    """An edge device runs exported models with ONNX Runtime or OpenVINO alone."""
    code = (
        "import sys, service.engine.inference; "
        "print(sorted({'torch', 'lightning', 'fastapi', 'sqlmodel'} & set(sys.modules)))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"

"""NNCF INT8 quantisation of an exported IR: the result holds 8-bit convolutions, runs, and ranks images like f32."""

from pathlib import Path

import numpy as np

from service.engine.export.quantize import is_quantised, quantize_openvino
from service.engine.inference import OpenVinoInferencer, to_rgb_array
from service.engine.inference.layout import OPENVINO_DIR, OPENVINO_FILE
from tests.engine.conftest import TINY_IMAGE_SIZE


def test_an_int8_ir_runs_and_its_scores_follow_the_f32_ones(saved_model, tiny_data, tmp_path: Path) -> None:
    folder = saved_model("padim").folder
    f32_xml = folder / OPENVINO_DIR / OPENVINO_FILE
    images = [to_rgb_array(Path(record.image).read_bytes()) for record in tiny_data.train]
    int8_xml = quantize_openvino(f32_xml, images, tmp_path / "int8", image_size=TINY_IMAGE_SIZE)
    assert is_quantised(int8_xml) and not is_quantised(f32_xml)
    batch = np.stack([to_rgb_array(Path(record.image).read_bytes()) for record in tiny_data.val])
    f32, int8 = OpenVinoInferencer(f32_xml).run(batch), OpenVinoInferencer(int8_xml).run(batch)
    assert int8.anomaly_map.shape == f32.anomaly_map.shape
    assert np.isfinite(int8.pred_score).all() and np.ptp(int8.pred_score) > 0
    assert np.corrcoef(f32.pred_score, int8.pred_score)[0, 1] > 0.8

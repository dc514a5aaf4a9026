"""Loading a model's exported artefacts into a session an inference unit owns."""

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from service.hosting.backend import DeploymentError

ONNX_FILE = "model.onnx"
OPENVINO_FILE = "openvino/model.xml"
METADATA_FILE = "metadata.json"


class BatchPredictor(Protocol):
    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (B, H, W, 3) RGB images of one size -> normalised scores (B,) and anomaly maps (B, h, w)."""
        ...


class _InferenceResult(Protocol):
    pred_score: np.ndarray
    anomaly_map: np.ndarray


class _EngineInferencer(Protocol):
    def predict(self, images: np.ndarray) -> _InferenceResult: ...


class EnginePredictor:
    """Adapts an engine inferencer (ONNX Runtime or OpenVINO) to `BatchPredictor`."""

    def __init__(self, inferencer: _EngineInferencer) -> None:
        self.inferencer = inferencer

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self.inferencer.predict(images)
        scores = np.asarray(result.pred_score, dtype=np.float32).reshape(-1)
        maps = np.asarray(result.anomaly_map, dtype=np.float32)
        return scores, maps.reshape(scores.shape[0], *maps.shape[-2:])


def model_image_size(artifacts_dir: Path) -> int:
    """The input size the model was trained at (256 when the metadata does not say)."""
    path = artifacts_dir / METADATA_FILE
    if not path.is_file():
        return 256
    return int(json.loads(path.read_text()).get("image_size", 256))


def load_predictor(artifacts_dir: Path, *, runtime: str, threads: int) -> BatchPredictor:
    """A warmed-up predictor for the artefacts in `artifacts_dir`, with `threads` intra-op threads."""
    from service.engine.inference import OnnxInferencer, OpenVinoInferencer

    try:
        if runtime == "openvino":
            predictor = EnginePredictor(OpenVinoInferencer(artifacts_dir / OPENVINO_FILE, threads=threads))
        else:
            predictor = EnginePredictor(OnnxInferencer(artifacts_dir / ONNX_FILE, threads=threads))
        size = model_image_size(artifacts_dir)
        predictor.predict(np.full((1, size, size, 3), 128, dtype=np.uint8))
    except Exception as exc:
        raise DeploymentError(f"the model's {runtime} artefact in {artifacts_dir} cannot be loaded: {exc}") from exc
    return predictor

"""Loading a model's exported artefacts into the session an inference unit owns."""

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from service.engine.inference import (
    Inferencer,
    InferenceResult,
    OnnxInferencer,
    OpenVinoInferencer,
    read_palette,
    read_tiling,
)
from service.engine.inference.layout import METADATA_FILE, ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE, OPENVINO_INT8_DIR
from service.engine.inference.onnx import Spinning
from service.engine.palette import ClassPalette
from service.hosting.backend import DeploymentError

DEFAULT_IMAGE_SIZE = 256


class BatchPredictor(Protocol):
    palette: ClassPalette | None
    """The model's defect classes (None: every defect is an anomaly)."""

    def predict(self, images: np.ndarray) -> InferenceResult:
        """uint8 (B, H, W, 3) RGB images of one size -> normalised scores (B,), anomaly maps (B, h, w) and, for a
        model with a class head, class scores (B, K, h, w)."""
        ...


class EnginePredictor:
    """Adapts an engine inferencer (ONNX Runtime or OpenVINO) to `BatchPredictor`."""

    def __init__(self, inferencer: Inferencer) -> None:
        self.inferencer = inferencer
        self.palette = inferencer.palette

    def predict(self, images: np.ndarray) -> InferenceResult:
        result = self.inferencer.run(images)
        return InferenceResult(
            np.asarray(result.pred_score).reshape(-1), np.asarray(result.anomaly_map), result.class_scores
        )


def model_image_size(artifacts_dir: Path) -> int:
    """The input size the model was trained at, from its metadata."""
    path = artifacts_dir / METADATA_FILE
    if not path.is_file():
        return DEFAULT_IMAGE_SIZE
    return int(json.loads(path.read_text()).get("image_size", DEFAULT_IMAGE_SIZE))


HOSTING_SPINNING: Spinning = "during-run"
"""How a hosting unit's ONNX Runtime threads spin: only while a run is in flight, so a busy unit keeps ORT's default
latency while its idle threads leave the cores to decoding and the HTTP stack."""


def load_predictor(artifacts_dir: Path, *, runtime: str, threads: int) -> BatchPredictor:
    """A warmed-up predictor for the artefacts in `artifacts_dir`, with `threads` intra-op threads; `runtime` is
    `openvino` (f32 IR), `openvino-int8` (the INT8 IR) or ONNX Runtime for anything else."""
    try:
        tiling, palette = read_tiling(artifacts_dir), read_palette(artifacts_dir)
        if runtime in ("openvino", "openvino-int8"):
            folder = OPENVINO_DIR if runtime == "openvino" else OPENVINO_INT8_DIR
            inferencer: Inferencer = OpenVinoInferencer(
                artifacts_dir / folder / OPENVINO_FILE, threads, tiling=tiling, palette=palette
            )
        else:
            inferencer = OnnxInferencer(
                artifacts_dir / ONNX_FILE, threads, tiling=tiling, palette=palette, spinning=HOSTING_SPINNING
            )
        predictor = EnginePredictor(inferencer)
        size = model_image_size(artifacts_dir)
        predictor.predict(np.full((1, size, size, 3), 128, dtype=np.uint8))
    except Exception as exc:
        raise DeploymentError(f"the model's {runtime} artefact cannot be loaded: {exc}") from exc
    return predictor

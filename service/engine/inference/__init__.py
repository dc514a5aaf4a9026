"""Serving a saved model without Lightning: ONNX Runtime (default) or OpenVINO, numpy in and out."""

import json
from pathlib import Path
from typing import Literal

from service.engine.inference.base import NORMALISED_THRESHOLD, Inferencer, InferenceResult
from service.engine.inference.images import ImageLike, ImagesLike, to_rgb_array
from service.engine.inference.layout import METADATA_FILE, ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE
from service.engine.inference.onnx import OnnxInferencer
from service.engine.inference.openvino import OpenVinoInferencer

Backend = Literal["onnx", "openvino"]


def load_inferencer(folder: Path, backend: Backend = "onnx", threads: int | None = None) -> Inferencer:
    """An inferencer for a saved model folder, with the thresholds its metadata records."""
    folder = Path(folder)
    thresholds = json.loads((folder / METADATA_FILE).read_text()).get("thresholds", {})
    limits = {
        "image_threshold": float(thresholds.get("image", NORMALISED_THRESHOLD)),
        "pixel_threshold": float(thresholds.get("pixel", NORMALISED_THRESHOLD)),
    }
    if backend == "onnx":
        return OnnxInferencer(folder / ONNX_FILE, threads, **limits)
    if backend == "openvino":
        return OpenVinoInferencer(folder / OPENVINO_DIR / OPENVINO_FILE, threads, **limits)
    raise ValueError(f"unknown inference backend {backend!r}; use 'onnx' or 'openvino'")


__all__ = [
    "Backend",
    "ImageLike",
    "ImagesLike",
    "InferenceResult",
    "Inferencer",
    "OnnxInferencer",
    "OpenVinoInferencer",
    "load_inferencer",
    "to_rgb_array",
]

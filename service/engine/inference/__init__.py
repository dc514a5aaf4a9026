"""Serving a saved model without Lightning: ONNX Runtime (default) or OpenVINO, numpy in and out."""

import json
from pathlib import Path
from typing import Any, Literal

from service.engine.inference.base import NORMALISED_THRESHOLD, Inferencer, InferenceResult
from service.engine.inference.images import ImageLike, ImagesLike, to_rgb_array
from service.engine.inference.layout import METADATA_FILE, ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE
from service.engine.inference.onnx import OnnxInferencer
from service.engine.inference.openvino import OpenVinoInferencer
from service.engine.palette import ClassPalette
from service.engine.tiling import TileLayout

Backend = Literal["onnx", "openvino"]


def _metadata(folder: Path) -> dict[str, Any]:
    path = Path(folder) / METADATA_FILE
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def read_tiling(folder: Path) -> TileLayout | None:
    """The tile layout a saved model (or an edge bundle) records in its metadata; None for an untiled model."""
    return TileLayout.from_dict(_metadata(folder).get("tiling"))


def read_palette(folder: Path) -> ClassPalette | None:
    """The defect classes and colours a saved model (or an edge bundle) records; None for a model without classes."""
    return ClassPalette.from_dict(_metadata(folder).get("classes"))


def load_inferencer(folder: Path, backend: Backend = "onnx", threads: int | None = None) -> Inferencer:
    """An inferencer for a saved model folder, with the thresholds and the tiling its metadata records."""
    folder = Path(folder)
    thresholds = json.loads((folder / METADATA_FILE).read_text()).get("thresholds", {})
    limits: dict[str, Any] = {
        "tiling": read_tiling(folder),
        "palette": read_palette(folder),
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
    "read_palette",
    "read_tiling",
    "to_rgb_array",
]

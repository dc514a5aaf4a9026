"""Export of a trained model's whole inference pipeline to ONNX and OpenVINO IR."""

from service.engine.export.formats import (
    DEFAULT_OPSET,
    INPUT_NAME,
    OUTPUT_NAMES,
    export_onnx,
    export_openvino,
    export_pipeline,
    output_names,
)
from service.engine.export.pipeline import ExportPipeline
from service.engine.export.resize import AntialiasedResize, antialias_weights

__all__ = [
    "DEFAULT_OPSET",
    "INPUT_NAME",
    "OUTPUT_NAMES",
    "AntialiasedResize",
    "ExportPipeline",
    "antialias_weights",
    "export_onnx",
    "export_openvino",
    "export_pipeline",
    "output_names",
]

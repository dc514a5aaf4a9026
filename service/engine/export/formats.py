"""Writing the export pipeline as ONNX and as OpenVINO IR."""

from pathlib import Path

import openvino
import torch

from service.engine.export.pipeline import ExportPipeline
from service.engine.training.trained_model import TrainedModel
from service.engine.types import ClassifiedBatch, InferenceBatch

INPUT_NAME = "image"
OUTPUT_NAMES = list(InferenceBatch._fields)
CLASSIFIED_OUTPUT_NAMES = list(ClassifiedBatch._fields)
# The dynamo exporter builds opset 18 natively; converting down to 17 fails for Resize/Reduce ops with dynamic axes.
DEFAULT_OPSET = 18


def export_pipeline(trained: TrainedModel) -> ExportPipeline:
    """The trained model wrapped with resizing and score normalisation, in eval mode on the CPU."""
    return ExportPipeline(trained.model, trained.normalizer(), trained.image_size, trained.class_head).cpu().eval()


def output_names(trained: TrainedModel) -> list[str]:
    """The graph's outputs: `class_scores` follows the two of every model when the model has a class head."""
    return CLASSIFIED_OUTPUT_NAMES if trained.class_head is not None else OUTPUT_NAMES


def export_onnx(trained: TrainedModel, path: Path, opset: int = DEFAULT_OPSET) -> Path:
    """Write the whole pipeline to `path` as one self-contained ONNX file: input `image` uint8 (batch, height, width, 3)
    with all three sizes dynamic, outputs `pred_score` (batch,) and `anomaly_map` (batch, S, S), and `class_scores`
    (batch, K, S, S) for a model with a class head."""
    pipeline = export_pipeline(trained)
    size = trained.image_size
    # Distinct, non-trivial example sizes keep the exporter from specialising any axis to a constant.
    example = torch.zeros((2, size + 3, size + 5, 3), dtype=torch.uint8)
    axes = {0: torch.export.Dim("batch"), 1: torch.export.Dim("height"), 2: torch.export.Dim("width")}
    with torch.no_grad():
        torch.onnx.export(
            pipeline,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=output_names(trained),
            dynamic_shapes=(axes,),
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return Path(path)


def export_openvino(onnx_path: Path, out_dir: Path) -> Path:
    """Convert an exported ONNX file to OpenVINO IR `out_dir/model.xml` (+ `.bin`) with fp32 weights."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xml_path = out_dir / "model.xml"
    openvino.save_model(openvino.convert_model(str(onnx_path)), str(xml_path), compress_to_fp16=False)
    return xml_path

"""Post-training INT8 quantisation of an exported OpenVINO IR with NNCF, calibrated on normal images.

Only convolutions (and transposed ones) of the networks are quantised: the score normalisation, PatchCore's nearest-neighbour search,
PaDiM's Mahalanobis distance and the flows' log-likelihoods are small matrix and element-wise subgraphs whose outputs
are compared with thresholds, and 8 bits there cost accuracy without saving time.
"""

from collections.abc import Iterable
from pathlib import Path

import nncf
import numpy as np
import openvino as ov
from PIL import Image

INT8_FILE = "model.xml"
QUANTISED_TYPES = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData")
DEFAULT_SUBSET_SIZE = 300


def calibration_batch(image: np.ndarray, size: int) -> np.ndarray:
    """One uint8 (H, W, 3) RGB image as the graph's (1, size, size, 3) input, resized as the graph would see it."""
    if image.shape[:2] != (size, size):
        image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
    return np.ascontiguousarray(image[None], dtype=np.uint8)


def quantize_openvino(
    xml_path: Path,
    images: Iterable[np.ndarray],
    out_dir: Path,
    *,
    image_size: int,
    subset_size: int = DEFAULT_SUBSET_SIZE,
) -> Path:
    """Quantise the IR at `xml_path` to INT8, calibrated on `images` (uint8 RGB normal images), into
    `out_dir/model.xml` (+ `.bin`); returns that path."""
    batches = [calibration_batch(image, image_size) for image in images]
    if not batches:
        raise ValueError("INT8 calibration needs at least one image")
    model = ov.Core().read_model(str(xml_path))
    quantised = nncf.quantize(
        model,
        nncf.Dataset(batches),
        subset_size=min(subset_size, len(batches)),
        target_device=nncf.TargetDevice.CPU,
        ignored_scope=nncf.IgnoredScope(names=_map_filters(model), types=_other_types(model)),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / INT8_FILE
    ov.save_model(quantised, str(path), compress_to_fp16=False)
    return path


def _other_types(model: ov.Model) -> list[str]:
    """Every operation type of the graph but the convolutions: what NNCF must leave in floating point."""
    return sorted({op.get_type_name() for op in model.get_ops()} - set(QUANTISED_TYPES))


def _map_filters(model: ov.Model) -> list[str]:
    """Single-channel convolutions: the Gaussian smoothing of anomaly maps. Their input is the score itself, whose
    range on anomalous images lies beyond what normal calibration images show, so 8 bits would clip it flat."""
    return [
        op.get_friendly_name()
        for op in model.get_ops()
        if op.get_type_name() in QUANTISED_TYPES and op.get_input_partial_shape(1).to_shape()[:2] == [1, 1]
    ]


def is_quantised(xml_path: Path) -> bool:
    """True when the IR holds 8-bit FakeQuantize nodes (what NNCF inserts)."""
    model = ov.Core().read_model(str(xml_path))
    return any(op.get_type_name() == "FakeQuantize" for op in model.get_ops())

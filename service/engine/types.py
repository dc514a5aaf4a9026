"""Types shared by every anomaly model, the exporter and the inferencers."""

from typing import NamedTuple

import torch


class InferenceBatch(NamedTuple):
    """What every model's eval forward returns, and the output names of every exported ONNX graph.

    pred_score: (B,) image-level anomaly score. Raw for a bare model; in [0, 1] with 0.5 at the image threshold once the
        exported pipeline applies score normalisation.
    anomaly_map: (B, H, W) pixel-level anomaly scores at the model's input size.
    """

    pred_score: torch.Tensor
    anomaly_map: torch.Tensor


class ClassifiedBatch(NamedTuple):
    """The exported pipeline's output for a model with defect classes: `InferenceBatch`'s fields and
    class_scores: (B, K, H, W) per-pixel probabilities of the model's K classes (`service.engine.classes`)."""

    pred_score: torch.Tensor
    anomaly_map: torch.Tensor
    class_scores: torch.Tensor

"""Export a bare torch model with the TorchScript exporter and compare it with ONNX Runtime."""

from pathlib import Path

import onnxruntime as ort
import torch
from torch import nn

from service.engine.types import InferenceBatch


def assert_matches_in_onnx_runtime(model: nn.Module, images: torch.Tensor, path: Path, *, rtol: float, atol: float):
    torch.onnx.export(
        model,
        (images,),
        str(path),
        input_names=["images"],
        output_names=list(InferenceBatch._fields),
        opset_version=17,
        dynamo=False,
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    pred_score, anomaly_map = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        expected = model(images)
    assert torch.allclose(torch.from_numpy(anomaly_map), expected.anomaly_map, rtol=rtol, atol=atol)
    assert torch.allclose(torch.from_numpy(pred_score), expected.pred_score, rtol=rtol, atol=atol)

"""The Ray Serve deployment of one hosted model version: each replica is one inference unit.

A replica receives the model's artefacts as bytes (they are small: an ONNX file and its metadata), so it needs no
access to the object store and can run on any node. Requests are micro-batched with `@serve.batch`; a batch holding
images of several sizes runs one predictor call per size.
"""

import asyncio
import tempfile
from pathlib import Path

from ray import serve

from service.hosting.backend import InferenceRequest, Prediction
from service.hosting.batch import predict_batch
from service.hosting.predictor import load_predictor

BATCH_WAIT_S = 0.005


def read_artifacts(directory: Path) -> dict[str, bytes]:
    """Every file under `directory`, by its relative path: what a replica is started with."""
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


class InferenceUnit:
    def __init__(self, artifacts: dict[str, bytes], runtime: str, threads: int, max_batch: int) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="openlv-unit-")
        root = Path(self._folder.name)
        for name, data in artifacts.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        self.predictor = load_predictor(root, runtime=runtime, threads=threads)
        self.predict.set_max_batch_size(max_batch)  # type: ignore[attr-defined]  # added by @serve.batch

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=BATCH_WAIT_S)
    async def predict(self, requests: list[InferenceRequest]) -> list[Prediction]:
        return await asyncio.to_thread(self._predict_by_size, requests)

    def _predict_by_size(self, requests: list[InferenceRequest]) -> list[Prediction]:
        answers: dict[int, Prediction] = {}
        shapes = {request.image.shape for request in requests}
        for shape in shapes:
            indices = [index for index, request in enumerate(requests) if request.image.shape == shape]
            for index, prediction in zip(
                indices, predict_batch(self.predictor, [requests[i] for i in indices]), strict=True
            ):
                answers[index] = prediction
        return [answers[index] for index in range(len(requests))]

    async def __call__(self, request: InferenceRequest) -> Prediction:
        return await self.predict(request)


INFERENCE_UNIT = serve.deployment(name="unit")(InferenceUnit)
"""The Serve deployment of `InferenceUnit`; `serving` sets its replicas, queue and CPUs per hosted model."""

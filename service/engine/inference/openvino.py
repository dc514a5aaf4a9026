"""OpenVINO inferencer, for Intel CPUs and accelerators."""

import threading
from pathlib import Path

import numpy as np
import openvino as ov

from service.engine.inference.base import CLASS_OUTPUT, NORMALISED_THRESHOLD, OUTPUT_NAMES, Inferencer, InferenceResult
from service.engine.palette import ClassPalette
from service.engine.tiling import TileLayout


class OpenVinoInferencer(Inferencer):
    """Runs `openvino/model.xml` in f32 (the CPU plugin would otherwise pick bf16 where the hardware has it).

    An infer request holds state, so each thread gets its own; the compiled model is shared.
    """

    def __init__(
        self,
        xml_path: Path,
        threads: int | None = None,
        *,
        device: str = "CPU",
        image_threshold: float = NORMALISED_THRESHOLD,
        pixel_threshold: float = NORMALISED_THRESHOLD,
        tiling: TileLayout | None = None,
        palette: ClassPalette | None = None,
    ) -> None:
        super().__init__(
            image_threshold=image_threshold, pixel_threshold=pixel_threshold, tiling=tiling, palette=palette
        )
        config: dict[str, str | int] = {"INFERENCE_PRECISION_HINT": "f32"}
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = ov.Core().compile_model(str(xml_path), device, config)
        names = {name for output in self.compiled.outputs for name in output.get_names()}
        wanted = [*OUTPUT_NAMES, *([CLASS_OUTPUT] if CLASS_OUTPUT in names else [])]
        self.outputs = [self.compiled.output(name) for name in wanted]
        self._local = threading.local()

    def _request(self) -> ov.InferRequest:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return request

    def run_graph(self, batch: np.ndarray) -> InferenceResult:
        results = self._request().infer([batch])
        return InferenceResult(*(np.array(results[output]) for output in self.outputs))

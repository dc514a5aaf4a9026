"""ONNX Runtime inferencer, the default for serving."""

from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from service.engine.inference.base import CLASS_OUTPUT, NORMALISED_THRESHOLD, OUTPUT_NAMES, Inferencer, InferenceResult
from service.engine.palette import ClassPalette
from service.engine.tiling import TileLayout

Spinning = Literal["always", "during-run", "never"]


class OnnxInferencer(Inferencer):
    """Runs `model.onnx` on the CPU. `threads` caps intra-op threads (None: one per core). One session serves
    concurrent `predict` calls from many threads. `spinning` says when idle intra-op threads busy-wait for work:
    `always` (ONNX Runtime's default: they go on spinning after a run returns, burning cores the caller's decoding
    and post-processing need), `during-run` (between the graph's parallel sections only, stopped the moment the run
    returns: the same graph latency for the CPU of `never`; what a server whose units share cores wants) or `never`."""

    def __init__(
        self,
        path: Path,
        threads: int | None = None,
        *,
        image_threshold: float = NORMALISED_THRESHOLD,
        pixel_threshold: float = NORMALISED_THRESHOLD,
        tiling: TileLayout | None = None,
        palette: ClassPalette | None = None,
        spinning: Spinning = "always",
    ) -> None:
        super().__init__(
            image_threshold=image_threshold, pixel_threshold=pixel_threshold, tiling=tiling, palette=palette
        )
        options = ort.SessionOptions()
        if spinning == "never":
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        elif spinning == "during-run":
            options.add_session_config_entry("session.force_spinning_stop", "1")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        names = {output.name for output in self.session.get_outputs()}
        self.output_names = [*OUTPUT_NAMES, *([CLASS_OUTPUT] if CLASS_OUTPUT in names else [])]

    def run_graph(self, batch: np.ndarray) -> InferenceResult:
        return InferenceResult(*self.session.run(self.output_names, {self.input_name: batch}))

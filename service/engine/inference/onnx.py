"""ONNX Runtime inferencer, the default for serving."""

from pathlib import Path

import numpy as np
import onnxruntime as ort

from service.engine.inference.base import CLASS_OUTPUT, NORMALISED_THRESHOLD, OUTPUT_NAMES, Inferencer, InferenceResult
from service.engine.palette import ClassPalette
from service.engine.tiling import TileLayout


class OnnxInferencer(Inferencer):
    """Runs `model.onnx` on the CPU. `threads` caps intra-op threads (None: one per core). One session serves
    concurrent `predict` calls from many threads. `spinning=False` stops idle intra-op threads from busy-waiting for
    the next run (what a server whose units share cores wants: a spinning thread burns a core another unit needs)."""

    def __init__(
        self,
        path: Path,
        threads: int | None = None,
        *,
        image_threshold: float = NORMALISED_THRESHOLD,
        pixel_threshold: float = NORMALISED_THRESHOLD,
        tiling: TileLayout | None = None,
        palette: ClassPalette | None = None,
        spinning: bool = True,
    ) -> None:
        super().__init__(
            image_threshold=image_threshold, pixel_threshold=pixel_threshold, tiling=tiling, palette=palette
        )
        options = ort.SessionOptions()
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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

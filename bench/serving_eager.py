"""The comparison a user would otherwise run: the same saved model in torch eager mode (what anomalib's
TorchInferencer gives) behind a plain FastAPI endpoint on plain uvicorn, no signing, no queue, no log.

    python -m bench.serving_eager MODEL_FOLDER PORT

POST /predict takes the image bytes and answers the verdict and the same 1-bit mask the service sends.
"""

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, Request

from bench.serving_server import listening
from service.engine import artifacts
from service.engine.export.formats import export_pipeline
from service.engine.inference import to_rgb_array
from service.hosting.verdict import judge

ROOT = Path(__file__).resolve().parents[1]


def eager_app(folder: Path) -> FastAPI:
    pipeline = export_pipeline(artifacts.load(folder))
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        pixels = to_rgb_array(await request.body())
        with torch.inference_mode():
            output = pipeline(torch.from_numpy(pixels)[None])
        score = float(output.pred_score.reshape(-1)[0])
        verdict = judge(score, output.anomaly_map[0].numpy(), image_threshold=0.5, size=pixels.shape[:2])
        return {
            "IsAnomalous": verdict.is_anomalous,
            "Confidence": verdict.confidence,
            "AnomalyMask": base64.b64encode(verdict.mask_png).decode(),
        }

    return app


def start_eager_server(folder: Path, port: int, threads: int) -> subprocess.Popen[bytes]:
    """The eager endpoint in its own process (torch with `threads` intra-op threads); returns once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serving_eager", str(folder), str(port), str(threads)], cwd=ROOT
    )
    return listening(process, port, "the torch eager server")


def main() -> None:
    folder, port, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    uvicorn.run(eager_app(folder), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()

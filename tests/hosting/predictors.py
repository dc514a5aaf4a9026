"""A small, exact predictor for testing units and pools: brightness is the anomaly score.

It is real arithmetic (no canned answers): the map is each pixel's mean brightness in [0, 1] and the score the image
maximum, so a bright patch on a dark image is an anomaly exactly where it is. An optional gate holds each batch until
the test opens it, to fill queues deterministically.
"""

import threading

import numpy as np

from service.engine.inference import InferenceResult


class BrightnessPredictor:
    palette = None

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.entered = threading.Semaphore(0)
        self.batch_sizes: list[int] = []

    def predict(self, images: np.ndarray) -> InferenceResult:
        self.batch_sizes.append(len(images))
        self.entered.release()
        if self.gate is not None:
            assert self.gate.wait(timeout=30), "test gate never opened"
        maps = images.astype(np.float32).mean(axis=3) / 255.0
        return InferenceResult(maps.reshape(len(images), -1).max(axis=1), maps)


def dark_image(size: int = 64, patch: int = 0) -> np.ndarray:
    """A dark RGB image with a bright `patch` x `patch` square in its centre."""
    image = np.full((size, size, 3), 20, dtype=np.uint8)
    if patch:
        start = (size - patch) // 2
        image[start : start + patch, start : start + patch] = 250
    return image

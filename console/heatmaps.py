"""Anomaly heatmaps for the console: a trained model's normalised anomaly map of one image, as a see-through PNG.

The model's exported ONNX graph runs on ONNX Runtime (no torch, one thread) from a local copy of its artefacts kept
under LV_HOME/console-cache; the last few models stay loaded. Heatmaps of dataset images are made once per model and
image and kept in the object store under `heatmaps/`. Never changes a model, a dataset or a hosted deployment.
"""

import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from service.db.models import Model
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.engine.postprocess import resize_map
from service.hosting.model_cache import ArtifactCache
from service.hosting.predictor import BatchPredictor, load_predictor
from service.storage import ObjectStore

HEATMAP_PREFIX = "heatmaps/"
LOADED_MODELS = 2
_ALPHA_MAX = 200


def heatmap_key(model: Model, image_sha256: str) -> str:
    digest = hashlib.sha256(model.artifacts_prefix.encode()).hexdigest()[:16]
    return f"{HEATMAP_PREFIX}{digest}/{image_sha256}.png"


def colourise(anomaly_map: np.ndarray) -> bytes:
    """A normalised map (0.5 = the pixel threshold) as RGBA: clear where the model sees nothing, then yellow through
    red, more opaque the more anomalous."""
    value = np.clip(anomaly_map.astype(np.float32), 0.0, 1.0)
    heat = np.clip((value - 0.1) / 0.6, 0.0, 1.0)
    rgba = np.zeros((*value.shape, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = (230 * (1.0 - heat)).astype(np.uint8)
    rgba[..., 3] = (_ALPHA_MAX * heat**0.8).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


class Heatmaps:
    """Loads models on demand and turns images into heatmaps; thread-safe."""

    def __init__(self, store: ObjectStore, cache_root: Path) -> None:
        self._store = store
        self._artifacts = ArtifactCache(store, cache_root)
        self._models: OrderedDict[str, BatchPredictor] = OrderedDict()
        self._lock = threading.Lock()

    def _predictor(self, model: Model) -> BatchPredictor:
        with self._lock:
            if model.artifacts_prefix in self._models:
                self._models.move_to_end(model.artifacts_prefix)
                return self._models[model.artifacts_prefix]
        folder = self._artifacts.fetch(model.artifacts_prefix + ARTIFACTS_FOLDER)
        predictor = load_predictor(folder, runtime="onnx", threads=1)
        with self._lock:
            self._models[model.artifacts_prefix] = predictor
            while len(self._models) > LOADED_MODELS:
                self._models.popitem(last=False)
        return predictor

    def render(self, model: Model, pixels: np.ndarray) -> bytes:
        """The heatmap of RGB uint8 (H, W, 3) pixels, at the image's size."""
        maps = self._predictor(model).predict(pixels[None]).anomaly_map
        return colourise(resize_map(maps[0], (pixels.shape[0], pixels.shape[1])))

    def for_stored_image(self, model: Model, image_key: str, image_sha256: str) -> bytes:
        """The heatmap of a stored dataset image, made once and kept in storage."""
        key = heatmap_key(model, image_sha256)
        if self._store.exists(key):
            return self._store.get(key)
        with Image.open(io.BytesIO(self._store.get(image_key))) as image:
            pixels = np.asarray(image.convert("RGB"))
        data = self.render(model, pixels)
        self._store.put(key, data, "image/png")
        return data

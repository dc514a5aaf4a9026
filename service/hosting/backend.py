"""The one interface between the domain and whatever runs inference units.

The embedded backend (`service.hosting.embedded`) runs units as threads of the API process; a Ray Serve backend can
implement the same protocol with replicas. The domain sees deployments, requests and futures, never threads.
"""

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from service.engine.postprocess import ClassArea


@dataclass(frozen=True)
class DeploymentSpec:
    """One hosted model version: where its artefacts are (a local folder), the runtime that runs them
    (`onnxruntime`, `openvino` or `openvino-int8`) and how many units it may use."""

    key: str
    artifacts_dir: Path
    min_units: int
    max_units: int
    runtime: str = "onnxruntime"


@dataclass(frozen=True)
class InferenceRequest:
    """One decoded RGB image (H, W, 3) uint8 and the normalised image threshold to judge it by."""

    image: np.ndarray
    image_threshold: float


@dataclass(frozen=True)
class Prediction:
    """A unit's answer for one image.

    score: normalised anomaly score in [0, 1] (0.5 was the training threshold); anomaly_fraction: share of the image
    the mask covers, 0..1; mask_png: the anomaly mask at the image's size, one colour per class, as a PNG;
    anomaly_map: the normalised anomaly map at the model's resolution (what a review task's heatmap is drawn from);
    anomalies: each defect class the mask shows, with its colour and area (0..100): the model's classes, or
    `anomaly` for a model without any; background_color: the mask's background, the colour `background` is named with;
    stages: seconds the unit spent on this image by stage (queue, inference, postprocess, mask), for Server-Timing.
    """

    score: float
    is_anomalous: bool
    confidence: float
    anomaly_fraction: float
    mask_png: bytes
    anomaly_map: np.ndarray | None = None
    anomalies: tuple[ClassArea, ...] = ()
    background_color: str = "#FFFFFF"
    stages: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentStatus:
    current_units: int
    queue_depth: int
    utilisation: float


class DeploymentError(Exception):
    """A deployment could not start (missing artefacts, a model the runtime cannot load); the text says why."""


class NotDeployed(Exception):
    """No deployment with that key runs here."""


class Overloaded(Exception):
    """Every unit is busy and the queue is full; `retry_after_s` estimates when capacity frees up."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class InferenceBackend(Protocol):
    def start(self, spec: DeploymentSpec) -> None:
        """Load the model into `spec.min_units` units; returns once they serve, raises `DeploymentError`."""
        ...

    def stop(self, key: str) -> None:
        """Stop the deployment's units; requests still queued fail with `NotDeployed`. No-op when not deployed."""
        ...

    def submit(self, key: str, request: InferenceRequest) -> "Future[Prediction]":
        """Queue one request without blocking; raises `NotDeployed` or `Overloaded`."""
        ...

    def status(self, key: str) -> DeploymentStatus | None:
        """Current units, queue depth and utilisation, or None when not deployed."""
        ...

    def close(self) -> None:
        """Stop every deployment."""
        ...

"""DetectAnomalies results: the verdict, the mask as a PIL image and a numpy array, boxes around defects, the area."""

import base64
import io
import mimetypes
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage  # type: ignore[import-untyped]

BACKGROUND = "background"
IMAGE_CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

ImageInput = str | os.PathLike[str] | bytes | Image.Image


@dataclass(frozen=True)
class Box:
    """The bounding box of one connected region of the mask, in pixels (right and bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int
    pixels: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class AnomalyClass:
    name: str
    color: str
    area: float
    """Fraction of the image (0 to 1) the class covers."""


def image_payload(image: ImageInput) -> tuple[bytes, str]:
    """The bytes and Content-Type DetectAnomalies takes (PNG or JPEG) for a path, raw bytes or a PIL image."""
    if isinstance(image, Image.Image):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    if isinstance(image, bytes):
        return image, "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    path = Path(image)
    content_type = IMAGE_CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if content_type not in ("image/png", "image/jpeg"):
        raise ValueError(f"{path}: DetectAnomalies takes PNG or JPEG images")
    return path.read_bytes(), content_type


@dataclass(frozen=True)
class HumanReview:
    """What the project's review policy did with the detection (openlv extension)."""

    routed: bool
    reason: str
    task_id: str | None = None


class DetectionResult:
    """One DetectAnomalies answer. `mask` and `mask_array` are None when the model returned no mask;
    `human_review` is None when the project has no review policy."""

    def __init__(
        self, result: dict[str, Any], *, source: str | None = None, human_review: dict[str, Any] | None = None
    ) -> None:
        self.raw = result
        self.source = source
        self.human_review = (
            HumanReview(
                routed=bool(human_review.get("Routed")),
                reason=str(human_review.get("Reason", "")),
                task_id=human_review.get("TaskId"),
            )
            if human_review
            else None
        )
        self.is_anomalous = bool(result.get("IsAnomalous", False))
        self.confidence = float(result.get("Confidence", 0.0))
        mask = result.get("AnomalyMask")
        self.mask_png: bytes | None = base64.b64decode(mask) if isinstance(mask, str) and mask else None

    @property
    def verdict(self) -> str:
        return "anomalous" if self.is_anomalous else "normal"

    @property
    def anomalies(self) -> list[AnomalyClass]:
        """The anomaly classes the mask shows, background excluded."""
        found = []
        for anomaly in self.raw.get("Anomalies", []):
            pixel = anomaly.get("PixelAnomaly", {})
            if anomaly.get("Name", "").lower() != BACKGROUND:
                found.append(AnomalyClass(anomaly["Name"], pixel.get("Color", ""), pixel.get("TotalPercentageArea", 0)))
        return found

    @cached_property
    def mask(self) -> Image.Image | None:
        if self.mask_png is None:
            return None
        return Image.open(io.BytesIO(self.mask_png)).convert("RGB")

    @cached_property
    def mask_array(self) -> npt.NDArray[np.bool_] | None:
        """A bool (height, width) array, True where the mask shows any anomaly class."""
        if self.mask is None:
            return None
        pixels = np.asarray(self.mask)
        background = _background_color(self.raw.get("Anomalies", []))
        flagged: npt.NDArray[np.bool_] = np.any(pixels != np.array(background, dtype=np.uint8), axis=-1)
        return flagged

    @property
    def area(self) -> float:
        """Fraction of the image (0 to 1) flagged as anomalous."""
        if self.anomalies:
            return float(sum(anomaly.area for anomaly in self.anomalies))
        return float(self.mask_array.mean()) if self.mask_array is not None else 0.0

    @cached_property
    def boxes(self) -> list[Box]:
        """Bounding boxes of the mask's connected regions (8-connected), largest first."""
        if self.mask_array is None or not self.mask_array.any():
            return []
        labels, _ = ndimage.label(self.mask_array, structure=np.ones((3, 3), dtype=bool))
        boxes = []
        for index, region in enumerate(ndimage.find_objects(labels), start=1):
            rows, cols = region
            pixels = int(np.count_nonzero(labels[region] == index))
            boxes.append(Box(cols.start, rows.start, cols.stop, rows.stop, pixels))
        return sorted(boxes, key=lambda box: -box.pixels)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (no mask pixels)."""
        return {
            "source": self.source,
            "verdict": self.verdict,
            "is_anomalous": self.is_anomalous,
            "confidence": self.confidence,
            "area": self.area,
            "anomalies": [{"name": a.name, "color": a.color, "area": a.area} for a in self.anomalies],
            "boxes": [
                {"left": b.left, "top": b.top, "right": b.right, "bottom": b.bottom, "pixels": b.pixels}
                for b in self.boxes
            ],
        }

    def line(self) -> str:
        """One human-readable line: verdict, confidence, anomalous area."""
        return f"{self.verdict:<9}  confidence {self.confidence:.3f}  area {self.area:.2%}"

    def __repr__(self) -> str:
        return f"DetectionResult(verdict={self.verdict!r}, confidence={self.confidence:.3f}, area={self.area:.4f})"


def _background_color(anomalies: list[dict[str, Any]]) -> tuple[int, int, int]:
    color = next(
        (a.get("PixelAnomaly", {}).get("Color") for a in anomalies if a.get("Name", "").lower() == BACKGROUND),
        None,
    )
    hex_color = (color or "#FFFFFF").lstrip("#")
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)

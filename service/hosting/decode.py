"""Turning DetectAnomalies request bytes into RGB pixels, refusing what Lookout for Vision refuses."""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from service.domain.images import sniff_format
from service.engine.data.image_io import load_rgb
from service.errors import ValidationException
from service.settings import Settings

CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpeg"}
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG"}


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray
    format: str

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def decode_image(data: bytes, *, content_type: str, settings: Settings) -> DecodedImage:
    """RGB uint8 (H, W, 3) pixels of a PNG or JPEG whose bytes match the declared content type and size limits."""
    declared = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if declared is None:
        raise ValidationException(f"ContentType {content_type!r} is not supported: use image/png or image/jpeg.")
    if not data:
        raise ValidationException("The image is empty.")
    if len(data) > settings.max_image_bytes:
        raise ValidationException(f"The image is {len(data)} bytes; the limit is {settings.max_image_bytes} bytes.")
    actual = sniff_format(data)
    if actual != declared:
        found = f"a {actual.upper()} image" if actual else "neither a PNG nor a JPEG image"
        raise ValidationException(f"ContentType is {content_type} but the body is {found}.")
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[declared]]) as header:
            width, height = header.size
        low, high = settings.min_image_side, settings.max_image_side
        if not (low <= width <= high and low <= height <= high):
            raise ValidationException(
                f"The image is {width}x{height} pixels; each side must be between {low} and {high} pixels."
            )
        pixels = np.asarray(load_rgb(data), dtype=np.uint8)
    except ValidationException:
        raise
    except Exception as exc:  # noqa: BLE001 -- Pillow reports malformed input with many exception types
        raise ValidationException(f"The image is corrupt or truncated and cannot be decoded ({exc}).") from None
    return DecodedImage(pixels=pixels, format=declared)

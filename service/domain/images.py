"""The one image gate, and content-addressed image storage.

Every image that enters the service passes here: dataset images and masks through `inspect_image`, DetectAnomalies
bodies through `decode_image`. Both recognise PNG or JPEG by the magic bytes (never by a name; a declared content type
must agree), apply the byte and side limits of `Settings` (sides are read from the header before any pixel is decoded,
so a small file that claims a huge canvas is refused without allocating it) and decode in full, so truncated or
corrupt files are refused before anything is stored or judged. Pixels come from the inferencers' torch-free decoder
(`service.engine.inference.images.pil_to_rgb`), the one training uses too. `IMAGE_FORMATS` is the only table of
formats, content types and file extensions. Accepted bytes are stored once per SHA-256, whatever the number of
entries that use them.
"""

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlmodel import Session

from service.db.models import StoredImage, utcnow
from service.domain import stored_objects
from service.engine.inference.images import pil_to_rgb
from service.errors import ValidationException
from service.settings import Settings
from service.storage import ObjectStore


@dataclass(frozen=True)
class ImageFormat:
    name: str
    magic: bytes
    pil_format: str
    content_type: str
    extension: str


IMAGE_FORMATS = {
    "png": ImageFormat("png", b"\x89PNG\r\n\x1a\n", "PNG", "image/png", "png"),
    "jpeg": ImageFormat("jpeg", b"\xff\xd8\xff", "JPEG", "image/jpeg", "jpg"),
}
_BY_CONTENT_TYPE = {image_format.content_type: image_format for image_format in IMAGE_FORMATS.values()}


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    format: str
    width: int
    height: int
    size_bytes: int

    @property
    def content_type(self) -> str:
        return IMAGE_FORMATS[self.format].content_type


@dataclass(frozen=True)
class DecodedImage:
    """A DetectAnomalies body: RGB uint8 (H, W, 3) pixels and the format it came in."""

    pixels: np.ndarray
    format: str

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


class ImageRejected(Exception):
    """One image that cannot enter a dataset; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff_format(data: bytes) -> str | None:
    """'png' or 'jpeg' from the leading bytes, or None."""
    for image_format in IMAGE_FORMATS.values():
        if data.startswith(image_format.magic):
            return image_format.name
    return None


def _check_size(data: bytes, *, settings: Settings, kind: str) -> str:
    """The format of non-empty `data` within the byte limit; raises `ImageRejected`."""
    if not data:
        raise ImageRejected(f"the {kind} is empty")
    if len(data) > settings.max_image_bytes:
        raise ImageRejected(f"the {kind} is {len(data)} bytes; the limit is {settings.max_image_bytes} bytes")
    image_format = sniff_format(data)
    if image_format is None:
        raise ImageRejected(f"the {kind} is not a PNG or JPEG file (its content does not start with either signature)")
    return image_format


def inspect_image(data: bytes, *, settings: Settings, kind: str = "image") -> ImageInfo:
    """Check one image (or mask: `kind="mask"`, PNG only) and describe it; raises `ImageRejected`."""
    image_format = _check_size(data, settings=settings, kind=kind)
    if kind == "mask" and image_format != "png":
        raise ImageRejected("the mask must be a PNG file; JPEG compression changes mask colours")
    with _opened(data, image_format, settings=settings, kind=kind) as image:
        image.load()
        width, height = image.size
    return ImageInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        format=image_format,
        width=width,
        height=height,
        size_bytes=len(data),
    )


def decode_image(data: bytes, *, content_type: str, settings: Settings) -> DecodedImage:
    """The pixels of a DetectAnomalies body whose bytes match its declared content type; ValidationException else."""
    declared = _BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower())
    if declared is None:
        supported = " or ".join(_BY_CONTENT_TYPE)
        raise ValidationException(f"ContentType {content_type!r} is not supported: use {supported}.")
    try:
        actual = _check_size(data, settings=settings, kind="image")
        if actual != declared.name:
            raise ImageRejected(f"ContentType is {content_type} but the body is a {actual.upper()} image")
        with _opened(data, actual, settings=settings, kind="image") as image:
            pixels = pil_to_rgb(image)
    except ImageRejected as rejected:
        message = rejected.reason
        if "not a PNG or JPEG" in message:
            message = f"ContentType is {content_type} but the body is neither a PNG nor a JPEG image"
        raise ValidationException(message[0].upper() + message[1:] + ".") from None
    return DecodedImage(pixels=pixels, format=actual)


@contextmanager
def _opened(data: bytes, image_format: str, *, settings: Settings, kind: str) -> Iterator[Image.Image]:
    """A PIL image of a known format whose sides are within the limits; every Pillow failure, on opening or while
    decoding inside the `with` block, becomes `ImageRejected`."""
    try:
        with Image.open(io.BytesIO(data), formats=[IMAGE_FORMATS[image_format].pil_format]) as image:
            _check_dimensions(*image.size, settings=settings, kind=kind)
            yield image
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected(f"the {kind} declares too many pixels (a decompression bomb)") from None
    except Exception as exc:  # noqa: BLE001 -- Pillow reports malformed input with many exception types
        raise ImageRejected(f"the {kind} is corrupt or truncated and cannot be decoded ({exc})") from None


def _check_dimensions(width: int, height: int, *, settings: Settings, kind: str) -> None:
    low, high = settings.min_image_side, settings.max_image_side
    if not (low <= width <= high and low <= height <= high):
        raise ImageRejected(f"the {kind} is {width}x{height} pixels; each side must be between {low} and {high} pixels")


def image_key(info: ImageInfo) -> str:
    """Where an image lives in storage: its content hash, fanned out over 256 folders."""
    return f"images/{info.sha256[:2]}/{info.sha256}.{IMAGE_FORMATS[info.format].extension}"


def store_image(session: Session, store: ObjectStore, data: bytes, info: ImageInfo) -> StoredImage:
    """The stored image with these bytes, writing them only if no copy exists yet (dedup by SHA-256).

    Two requests storing the same bytes at once both succeed; a concurrent release of the same bytes cannot delete
    the file this transaction refers to (see `stored_objects`)."""
    row = {
        "sha256": info.sha256,
        "key": image_key(info),
        "format": info.format,
        "width": info.width,
        "height": info.height,
        "size_bytes": info.size_bytes,
        "created_at": utcnow(),
    }
    return stored_objects.claim(session, store, row=row, data=data, content_type=info.content_type)

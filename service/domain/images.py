"""Image validation and content-addressed image storage.

Every image and mask that enters a dataset passes `inspect_image`: PNG or JPEG by its magic bytes (never by its name or
declared content type), within the size limits, and decoded in full so truncated or corrupt files are refused before
anything is stored. Accepted bytes are stored once per SHA-256, whatever the number of entries that use them.
"""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image
from sqlmodel import Session

from service.db.models import StoredImage, utcnow
from service.domain import stored_objects
from service.settings import Settings
from service.storage import ObjectStore

_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG"}
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    format: str
    width: int
    height: int
    size_bytes: int

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.format]


class ImageRejected(Exception):
    """One image that cannot enter a dataset; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff_format(data: bytes) -> str | None:
    """'png' or 'jpeg' from the leading bytes, or None."""
    for name, magic in _MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def inspect_image(data: bytes, *, settings: Settings, kind: str = "image") -> ImageInfo:
    """Check one image (or mask: `kind="mask"`, PNG only) and describe it; raises `ImageRejected`."""
    if not data:
        raise ImageRejected(f"the {kind} is empty")
    if len(data) > settings.max_image_bytes:
        raise ImageRejected(f"the {kind} is {len(data)} bytes; the limit is {settings.max_image_bytes} bytes")
    image_format = sniff_format(data)
    if image_format is None:
        raise ImageRejected(f"the {kind} is not a PNG or JPEG file (its content does not start with either signature)")
    if kind == "mask" and image_format != "png":
        raise ImageRejected("the mask must be a PNG file; JPEG compression changes mask colours")
    width, height = _decode(data, image_format, settings=settings, kind=kind)
    return ImageInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        format=image_format,
        width=width,
        height=height,
        size_bytes=len(data),
    )


def _decode(data: bytes, image_format: str, *, settings: Settings, kind: str) -> tuple[int, int]:
    """Width and height after a full decode. Dimensions are checked from the header before any pixel is decoded, so
    a small file that claims a huge canvas (a decompression bomb) is refused without allocating it."""
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[image_format]]) as image:
            width, height = image.size
            _check_dimensions(width, height, settings=settings, kind=kind)
            image.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected(f"the {kind} declares too many pixels (a decompression bomb)") from None
    except Exception as exc:  # noqa: BLE001 -- Pillow reports malformed input with many exception types
        raise ImageRejected(f"the {kind} is corrupt or truncated and cannot be decoded ({exc})") from None
    return width, height


def _check_dimensions(width: int, height: int, *, settings: Settings, kind: str) -> None:
    low, high = settings.min_image_side, settings.max_image_side
    if not (low <= width <= high and low <= height <= high):
        raise ImageRejected(f"the {kind} is {width}x{height} pixels; each side must be between {low} and {high} pixels")


def image_key(info: ImageInfo) -> str:
    """Where an image lives in storage: its content hash, fanned out over 256 folders."""
    extension = "png" if info.format == "png" else "jpg"
    return f"images/{info.sha256[:2]}/{info.sha256}.{extension}"


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

"""inspect_image and store_image without a server."""

import struct
import zlib

import pytest
from sqlmodel import Session, select

from service.db.engine import build_engine
from service.db.models import StoredImage
from service.domain.images import ImageRejected, image_key, inspect_image, store_image
from service.migrations.runner import upgrade_to_head
from service.settings import Settings
from service.storage.local import LocalStore
from tests.helpers.data import jpeg_bytes, png_bytes

SETTINGS = Settings()


def with_dimensions(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with its IHDR claiming another size (and a valid CRC), as a decompression bomb would."""
    start = png.index(b"IHDR")
    header = b"IHDR" + struct.pack(">II", width, height) + png[start + 12 : start + 17]
    return png[:start] + header + struct.pack(">I", zlib.crc32(header)) + png[start + 21 :]


def test_png_and_jpeg_are_described():
    png, jpeg = png_bytes(size=(80, 64), seed=1), jpeg_bytes(size=(64, 72), seed=2)
    info = inspect_image(png, settings=SETTINGS)
    assert (info.format, info.width, info.height, info.size_bytes) == ("png", 80, 64, len(png))
    assert inspect_image(jpeg, settings=SETTINGS).format == "jpeg"
    assert info.sha256 != inspect_image(png_bytes(size=(80, 64), seed=3), settings=SETTINGS).sha256


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"GIF89a" + bytes(100), "not a PNG or JPEG"),
        (png_bytes(seed=4)[:200], "corrupt or truncated"),
        (png_bytes(size=(63, 64), seed=5), "63x64 pixels"),
        (png_bytes(size=(64, 4097), seed=6), "64x4097 pixels"),
        (with_dimensions(png_bytes(seed=7), 5000, 5000), "5000x5000 pixels"),
        (with_dimensions(png_bytes(seed=7), 200_000, 200_000), "decompression bomb"),
    ],
    ids=["empty", "gif", "truncated", "too-narrow", "too-tall", "large-header", "bomb-header"],
)
def test_bad_images_are_rejected_with_a_reason(data, reason):
    with pytest.raises(ImageRejected) as excinfo:
        inspect_image(data, settings=SETTINGS)
    assert reason in excinfo.value.reason


def test_limits_come_from_settings():
    data = png_bytes(size=(96, 96), seed=8)
    with pytest.raises(ImageRejected, match="limit is 100 bytes"):
        inspect_image(data, settings=Settings(max_image_bytes=100))
    with pytest.raises(ImageRejected, match="between 100 and"):
        inspect_image(data, settings=Settings(min_image_side=100))


def test_masks_must_be_png():
    with pytest.raises(ImageRejected, match="mask must be a PNG"):
        inspect_image(jpeg_bytes(seed=9), settings=SETTINGS, kind="mask")


def test_store_image_deduplicates_by_content(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade_to_head(engine)
    store = LocalStore(tmp_path / "storage", "bucket")
    data = png_bytes(seed=10)
    info = inspect_image(data, settings=SETTINGS)
    with Session(engine) as session:
        first = store_image(session, store, data, info)
        store.delete(first.key)
        second = store_image(session, store, data, info)
        session.commit()
        assert second.key == first.key == image_key(info)
        assert len(session.exec(select(StoredImage)).all()) == 1
    assert store.get(first.key) == data

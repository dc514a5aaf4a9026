"""The image gate for DetectAnomalies input: PNG or JPEG whose bytes match the declared content type, within the size limits."""

import pytest

from service.domain.images import decode_image
from service.errors import ValidationException
from service.settings import Settings
from tests.helpers.data import jpeg_bytes, png_bytes

SETTINGS = Settings(home="/nonexistent")


def test_png_and_jpeg_decode_to_rgb_pixels_of_their_size() -> None:
    png = decode_image(png_bytes((120, 80), mode="L"), content_type="image/png", settings=SETTINGS)
    jpeg = decode_image(jpeg_bytes((70, 90)), content_type="image/jpeg", settings=SETTINGS)
    assert png.pixels.shape == (80, 120, 3) and png.format == "png"
    assert jpeg.pixels.shape == (90, 70, 3) and (jpeg.width, jpeg.height) == (70, 90)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (png_bytes(), "image/jpeg", "body is a PNG image"),
        (jpeg_bytes(), "image/png", "body is a JPEG image"),
        (b"GIF89a not an image", "image/png", "neither a PNG nor a JPEG"),
        (png_bytes(), "image/gif", "not supported"),
        (png_bytes()[:200], "image/png", "corrupt or truncated"),
        (png_bytes((32, 32)), "image/png", "between 64 and 4096"),
        (b"", "image/png", "empty"),
    ],
)
def test_invalid_images_are_refused_with_the_reason(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ValidationException, match=message):
        decode_image(body, content_type=content_type, settings=SETTINGS)

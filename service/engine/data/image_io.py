"""Decoding user images and masks into the tensors the models train on."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

ImageSource = Path | bytes

_HIGH_BIT_DEPTH_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, (bytes, bytearray, memoryview)):
        image = Image.open(io.BytesIO(bytes(source)))
    else:
        image = Image.open(Path(source))
    image.load()
    return image


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """Scale a 16-bit or float grayscale image to 8 bits (PIL's own conversion clips instead of scaling)."""
    array = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low) * 255.0 if high > low else np.zeros_like(array)
    else:
        array = array / 65535.0 * 255.0
    return Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8), mode="L")


def load_rgb(source: ImageSource) -> Image.Image:
    """Decode any PIL-readable image (grayscale, palette, RGBA, CMYK, 16-bit PNG, JPEG...) into 8-bit RGB.

    EXIF orientation is applied, so phone photos come out the way they are displayed. Alpha is dropped.
    """
    image = ImageOps.exif_transpose(_open(source))
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        image = _high_bit_depth_to_l(image)
    elif image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image.convert("RGB")


def load_mask(source: ImageSource) -> np.ndarray:
    """Decode a ground-truth mask into a bool (H, W) array: any nonzero pixel (in any channel) is defect."""
    array = np.asarray(_open(source))
    if array.ndim == 3:
        array = array.any(axis=2)
    return array != 0


def rgb_to_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """RGB PIL image -> float32 (3, size, size) in [0, 1], resized bilinearly with antialiasing."""
    array = np.asarray(image, dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0).to(torch.float32) / 255.0
    if tensor.shape[-2:] != (size, size):
        tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return tensor.squeeze(0).clamp_(0.0, 1.0)


def mask_to_tensor(mask: np.ndarray, size: int) -> torch.Tensor:
    """Bool (H, W) mask -> float32 (size, size) in {0, 1}, resized with nearest neighbour."""
    tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
    if tensor.shape[-2:] != (size, size):
        tensor = F.interpolate(tensor, size=(size, size), mode="nearest")
    return tensor[0, 0]

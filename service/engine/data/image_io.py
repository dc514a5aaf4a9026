"""Decoding user images and masks into the tensors the models train on (pixels decoded as the inferencers do)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from service.engine.inference.images import pil_to_rgb
from service.engine.palette import MaskColors, defect_pixels

ImageSource = Path | bytes


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, (bytes, bytearray, memoryview)):
        image = Image.open(io.BytesIO(bytes(source)))
    else:
        image = Image.open(Path(source))
    image.load()
    return image


def load_rgb(source: ImageSource) -> Image.Image:
    """Decode any PIL-readable image (grayscale, palette, RGBA, CMYK, 16-bit PNG, JPEG...) into 8-bit RGB.

    The decoding is the inferencers' (`pil_to_rgb`), so training and serving see the same pixels: EXIF orientation
    applied (phone photos come out the way they are displayed), 16-bit and float scaled to 8 bits, alpha dropped.
    """
    with _open(source) as image:
        return Image.fromarray(pil_to_rgb(image), mode="RGB")


def load_mask(source: ImageSource, colors: MaskColors = ()) -> np.ndarray:
    """Decode a ground-truth mask into a bool (H, W) array: any nonzero pixel (in any channel) is defect, or with a
    colour map (`ImageRecord.mask_colors`) the pixels of its classes' colours."""
    if colors:
        return defect_pixels(np.asarray(load_rgb(source)), colors)
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

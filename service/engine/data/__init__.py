"""Image records, decoding, the torch dataset and the Lightning data module."""

from service.engine.data.dataset import AnomalyDataModule, AnomalyDataset
from service.engine.data.image_io import load_mask, load_rgb
from service.engine.data.records import IMAGE_SUFFIXES, ImageRecord, folder_records, mvtec_records

__all__ = [
    "IMAGE_SUFFIXES",
    "AnomalyDataModule",
    "AnomalyDataset",
    "ImageRecord",
    "folder_records",
    "load_mask",
    "load_rgb",
    "mvtec_records",
]

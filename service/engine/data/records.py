"""Where training and evaluation images come from: MVTec AD style folders, plain folders, or bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
NORMAL_FOLDER = "good"


@dataclass(frozen=True)
class ImageRecord:
    """One image with its label: 0 normal, 1 anomalous. The mask (white/nonzero = defect) is optional.

    `mask_colors` is the mask's colour map when its colours name defect classes (a Ground Truth segmentation mask):
    (hex colour "#rrggbb", class name) pairs, the background named BACKGROUND. Then every pixel not of the
    background colour is defect, and the classes are what the model learns to name (`service.engine.classes`).
    """

    image: Path | bytes
    label: int
    mask: Path | bytes | None = None
    name: str = ""
    mask_colors: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 (normal) or 1 (anomalous), got {self.label!r}")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _mask_for(image: Path, mask_dir: Path | None) -> Path | None:
    """Find `<stem>_mask.<ext>` (MVTec's naming) or `<stem>.<ext>` in mask_dir."""
    if mask_dir is None or not mask_dir.is_dir():
        return None
    for stem in (f"{image.stem}_mask", image.stem):
        for suffix in (".png", image.suffix, *sorted(IMAGE_SUFFIXES)):
            candidate = mask_dir / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def mvtec_records(root: Path, split: str = "train") -> list[ImageRecord]:
    """Read an MVTec AD category folder: `<split>/good` is normal, every other `<split>/<defect>` is anomalous, with
    masks from `ground_truth/<defect>/<stem>_mask.png` when present. Order: `good` first, then defects by name, files
    sorted by name. Record names are `<folder>/<file name>`.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"no {split!r} folder in {root}")
    folders = sorted((d for d in split_dir.iterdir() if d.is_dir()), key=lambda d: (d.name != NORMAL_FOLDER, d.name))
    records = []
    for folder in folders:
        label = 0 if folder.name == NORMAL_FOLDER else 1
        mask_dir = Path(root) / "ground_truth" / folder.name if label else None
        for image in _images_in(folder):
            records.append(
                ImageRecord(
                    image=image, label=label, mask=_mask_for(image, mask_dir), name=f"{folder.name}/{image.name}"
                )
            )
    return records


def folder_records(
    normal_dir: Path, anomaly_dir: Path | None = None, mask_dir: Path | None = None
) -> list[ImageRecord]:
    """Plain folders of normal and (optionally) anomalous images; masks for anomalous images are matched by stem
    (`<stem>_mask.png` or `<stem>.png`) in mask_dir. Normal images first, each group sorted by file name.
    """
    records = [ImageRecord(image=p, label=0, name=p.name) for p in _images_in(Path(normal_dir))]
    if anomaly_dir is not None:
        mask_folder = Path(mask_dir) if mask_dir is not None else None
        records += [
            ImageRecord(image=p, label=1, mask=_mask_for(p, mask_folder), name=p.name)
            for p in _images_in(Path(anomaly_dir))
        ]
    return records

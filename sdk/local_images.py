"""Which local files to upload, and with which labels: plain folders, MVTec AD trees and labelled folder trees.

The layouts match the service's storage imports (see `docs/api-extensions.md`), so a tree imports the same way from a
laptop (uploaded by the SDK) as from the service's bucket (imported server-side).
"""

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LABELS = ("normal", "anomaly", "unlabeled")


@dataclass(frozen=True)
class LocalImage:
    path: Path
    label: str
    anomaly_class: str | None = None
    mask: Path | None = None


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _images_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if is_image(path))


def plain_images(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, label: str, anomaly_class: str | None = None
) -> list[LocalImage]:
    """Files as given and every image under given folders, all with one label."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}; got {label!r}")
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[LocalImage] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.extend(LocalImage(image, label, anomaly_class) for image in _images_under(path))
        elif path.is_file():
            found.append(LocalImage(path, label, anomaly_class))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def mvtec_images(root: str | os.PathLike[str], split: str) -> list[LocalImage]:
    """`<split>/good/*` normal; `<split>/<defect>/*` anomalies of class <defect> with masks from `ground_truth/`."""
    base = Path(root)
    split_dir = base / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"{base} has no {split}/ folder (expected the MVTec AD layout)")
    found: list[LocalImage] = []
    for class_dir in sorted(path for path in split_dir.iterdir() if path.is_dir()):
        for image in _images_under(class_dir):
            if class_dir.name == "good":
                found.append(LocalImage(image, "normal"))
                continue
            mask = base / "ground_truth" / class_dir.name / f"{image.stem}_mask.png"
            found.append(LocalImage(image, "anomaly", class_dir.name, mask if mask.is_file() else None))
    return found


def mvtec_splits(root: str | os.PathLike[str], wanted: Sequence[str]) -> list[str]:
    return [split for split in wanted if (Path(root) / split).is_dir()]


def folder_images(root: str | os.PathLike[str]) -> list[LocalImage]:
    """`normal/*`, `anomaly/*` or `anomaly/<class>/*`, masks in `masks/[<class>/]<name>[_mask].png`."""
    base = Path(root)
    if not (base / "normal").is_dir() and not (base / "anomaly").is_dir():
        raise FileNotFoundError(f"{base} has neither a normal/ nor an anomaly/ folder")
    found = (
        [LocalImage(image, "normal") for image in _images_under(base / "normal")] if (base / "normal").is_dir() else []
    )
    anomaly_dir = base / "anomaly"
    if not anomaly_dir.is_dir():
        return found
    for image in _images_under(anomaly_dir):
        relative = image.relative_to(anomaly_dir)
        anomaly_class = relative.parts[0] if len(relative.parts) > 1 else None
        mask_dir = base / "masks" / anomaly_class if anomaly_class else base / "masks"
        masks = [mask_dir / f"{image.stem}_mask.png", mask_dir / f"{image.stem}.png"]
        mask = next((candidate for candidate in masks if candidate.is_file()), None)
        found.append(LocalImage(image, "anomaly", anomaly_class, mask))
    return found

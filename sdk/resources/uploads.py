"""UploadDatasetImages and ImportDatasetEntries (openlv extensions): local files in batches, storage trees in one call."""

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from sdk._transport import api_path
from sdk.client import Client
from sdk.local_images import LocalImage
from sdk.multipart import FilePart, encode_multipart
from sdk.resources._base import WireModel

UploadProgress = Callable[[int, int], None]
"""Called as `progress(images_done, images_total)` after each batch (and once with 0 before the first)."""

MAX_IMAGES_PER_REQUEST = 100
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024


class ImageStats(WireModel):
    total: int = 0
    labeled: int = 0
    normal: int = 0
    anomaly: int = 0


class UploadedImage(WireModel):
    id: str
    file_name: str = ""
    label: str
    sha256: str
    source_ref: str
    duplicate: bool
    path: str | None = None
    """The local file this image came from (filled in by the SDK)."""


class UploadResult(WireModel):
    """What an upload added: one row per image, and the dataset's counts after the last batch."""

    dataset_type: str
    dataset_created: bool = False
    image_stats: ImageStats = Field(default_factory=ImageStats)
    images: list[UploadedImage] = Field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(1 for image in self.images if image.duplicate)


class ImportedImages(WireModel):
    total: int = 0
    normal: int = 0
    anomaly: int = 0
    masks: int = 0
    duplicates: int = 0


class ImportResult(WireModel):
    dataset_type: str
    dataset_created: bool = False
    image_stats: ImageStats = Field(default_factory=ImageStats)
    imported_images: ImportedImages = Field(default_factory=ImportedImages)
    ignored_objects: int = 0


def batches(images: Sequence[LocalImage], *, batch_size: int, batch_bytes: int) -> Iterator[list[LocalImage]]:
    """Consecutive groups of at most `batch_size` images and (unless one image alone is larger) `batch_bytes` bytes."""
    batch: list[LocalImage] = []
    size = 0
    for image in images:
        image_bytes = image.path.stat().st_size + (image.mask.stat().st_size if image.mask else 0)
        if batch and (len(batch) >= batch_size or size + image_bytes > batch_bytes):
            yield batch
            batch, size = [], 0
        batch.append(image)
        size += image_bytes
    if batch:
        yield batch


def _parts(batch: Sequence[LocalImage]) -> list[tuple[str, str | FilePart]]:
    parts: list[tuple[str, str | FilePart]] = []
    for index, image in enumerate(batch):
        part_id = f"i{index}"
        parts.append((f"image.{part_id}", FilePart(image.path.name, image.path.read_bytes())))
        parts.append((f"label.{part_id}", image.label))
        if image.anomaly_class:
            parts.append((f"anomalyClass.{part_id}", image.anomaly_class))
        if image.mask is not None:
            parts.append((f"mask.{part_id}", FilePart(image.mask.name, image.mask.read_bytes(), "image/png")))
    return parts


def upload_images(
    client: Client,
    project_name: str,
    dataset_type: str,
    images: Sequence[LocalImage],
    *,
    batch_size: int = 32,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: UploadProgress | None = None,
) -> UploadResult:
    """Send `images` through the native multipart endpoint, batch by batch; the dataset is created when missing.

    Each batch is all-or-nothing on the service; a refused batch raises and leaves earlier batches in place (uploading
    again is safe: images are content-addressed and come back as duplicates)."""
    if not images:
        raise ValueError("no images to upload")
    if not 1 <= batch_size <= MAX_IMAGES_PER_REQUEST:
        raise ValueError(f"batch_size must be between 1 and {MAX_IMAGES_PER_REQUEST}")
    path = api_path("projects", project_name, "datasets", dataset_type, "images")
    result = UploadResult(dataset_type=dataset_type)
    done = 0
    if progress is not None:
        progress(0, len(images))
    for batch in batches(images, batch_size=batch_size, batch_bytes=batch_bytes):
        body, content_type = encode_multipart(_parts(batch))
        answer = client.request(
            "POST", path, content=body, headers={"Content-Type": content_type}, unsigned_payload=True
        )
        reply = UploadResult.model_validate(answer)
        for uploaded in reply.images:
            uploaded.path = str(batch[int(uploaded.id.removeprefix("i"))].path)
        result.dataset_created = result.dataset_created or reply.dataset_created
        result.image_stats = reply.image_stats
        result.images.extend(reply.images)
        done += len(batch)
        if progress is not None:
            progress(done, len(images))
    return result


def import_entries(
    client: Client,
    project_name: str,
    dataset_type: str,
    *,
    s3_uri: str,
    layout: str,
    splits: Sequence[str] | None = None,
) -> ImportResult:
    """Import a tree that already lies in the service's storage (`s3://bucket/prefix/`), server-side."""
    body: dict[str, Any] = {"S3Uri": s3_uri, "Layout": layout}
    if splits is not None:
        body["Splits"] = list(splits)
    path = api_path("projects", project_name, "datasets", dataset_type, "imports")
    return ImportResult.model_validate(client.request("POST", path, json_body=body))


def local_path(path: str | os.PathLike[str]) -> Path | None:
    """None for `s3://` URIs (imported server-side), else the local path."""
    return None if str(path).startswith("s3://") else Path(path)

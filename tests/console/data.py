"""Data for console tests: a synthetic MVTec-layout tree put in the service's own storage (for imports), and a
dataset of many distinct images written straight to the database and storage (for page timings)."""

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry, StoredImage
from service.domain.projects import create_project
from tests.helpers.data import synthetic_dataset


def put_mvtec_tree(context: AppContext, folder: Path, prefix: str, **sizes: int) -> str:
    """Write a small synthetic MVTec-layout dataset under `prefix` in the service's bucket; returns its s3:// URI."""
    root = synthetic_dataset(folder, **sizes)
    for path in sorted(root.rglob("*.png")):
        context.store.put(f"{prefix}{path.relative_to(root).as_posix()}", path.read_bytes(), "image/png")
    return f"s3://{context.settings.storage_bucket}/{prefix}"


def _png(index: int, size: int = 64) -> bytes:
    """A small PNG unique to `index` (its bytes encode it), quick to make and to store."""
    pixels = np.full((size, size, 3), 90, dtype=np.uint8)
    pixels[0, :4] = np.frombuffer(index.to_bytes(12, "big"), dtype=np.uint8).reshape(4, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def seed_large_project(context: AppContext, name: str, images: int) -> None:
    """A project whose train dataset holds `images` distinct stored images, half normal, half anomaly."""
    bucket = context.settings.storage_bucket
    with transaction(context.engine) as session:
        project_id = create_project(session, name=name).id
        dataset = Dataset(project_id=project_id, dataset_type="train", status="CREATE_COMPLETE")  # type: ignore[arg-type]
        session.add(dataset)
        session.flush()
        stored: list[StoredImage] = []
        entries: list[DatasetEntry] = []
        for index in range(images):
            data = _png(index)
            sha = hashlib.sha256(data).hexdigest()
            key = f"images/{sha[:2]}/{sha}.png"
            context.store.put(key, data, "image/png")
            label = "anomaly" if index % 2 else "normal"
            ref = f"s3://{bucket}/big/{label}/{index:05d}.png"
            line = {"source-ref": ref, "anomaly-label": index % 2, "anomaly-label-metadata": {"class-name": label}}
            stored.append(StoredImage(sha256=sha, key=key, format="png", width=64, height=64, size_bytes=len(data)))
            entries.append(
                DatasetEntry(
                    dataset_id=dataset.id,  # type: ignore[arg-type]
                    image_sha256=sha,
                    source_ref=ref,
                    label=label,
                    manifest_line=line,
                )
            )
        session.add_all(stored)
        session.flush()
        session.add_all(entries)

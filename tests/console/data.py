"""Data for console tests: a synthetic MVTec-layout tree put in the service's own storage (for imports), and a
dataset of many distinct images written straight to the database and storage (for page timings)."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry
from service.domain.images import inspect_image, store_image
from service.domain.projects import create_project
from tests.helpers.data import synthetic_dataset


def put_mvtec_tree(context: AppContext, folder: Path, prefix: str, **sizes: int) -> str:
    """Write a small synthetic MVTec-layout dataset under `prefix` in the service's bucket; returns its s3:// URI."""
    root = synthetic_dataset(folder, **sizes)
    for path in sorted(root.rglob("*.png")):
        context.store.put(f"{prefix}{path.relative_to(root).as_posix()}", path.read_bytes(), "image/png")
    return f"s3://{context.settings.storage_bucket}/{prefix}"


def _png(seed: int, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def seed_large_project(context: AppContext, name: str, images: int) -> None:
    """A project whose train dataset holds `images` distinct images, half normal, half anomaly."""
    with transaction(context.engine) as session:
        project_id = create_project(session, name=name).id
        dataset = Dataset(project_id=project_id, dataset_type="train", status="CREATE_COMPLETE")  # type: ignore[arg-type]
        session.add(dataset)
        session.flush()
        for index in range(images):
            data = _png(index)
            stored = store_image(session, context.store, data, inspect_image(data, settings=context.settings))
            label = "anomaly" if index % 2 else "normal"
            ref = f"s3://{context.settings.storage_bucket}/big/{label}/{index:05d}.png"
            session.add(
                DatasetEntry(
                    dataset_id=dataset.id,  # type: ignore[arg-type]
                    image_sha256=stored.sha256,
                    source_ref=ref,
                    label=label,
                    manifest_line={"source-ref": ref, "anomaly-label": index % 2, "anomaly-label-metadata": {"class-name": label}},
                )
            )

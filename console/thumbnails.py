"""Gallery images for the console: a dataset entry's or a logged detection's image, and its thumbnail.

Thumbnails are JPEGs at most `THUMBNAIL_SIDE` pixels on a side, made once per content hash and kept in the object
store under `thumbnails/`, so a gallery page of 2,000 images never decodes a full image twice. Images are found by
the project they belong to, so a caller only reaches images of a project it names. Never writes anything but
thumbnails.
"""

import io

from PIL import Image
from sqlmodel import Session, select

from service.db.models import Dataset, DatasetEntry, Detection, Model, Project, StoredImage
from service.errors import ResourceNotFoundException
from service.storage import ObjectStore

THUMBNAIL_SIDE = 192
THUMBNAIL_PREFIX = "thumbnails/"


def entry_image(session: Session, *, project_name: str, source_ref: str) -> StoredImage:
    """The stored image of the project's dataset entry with this source-ref."""
    query = (
        select(StoredImage)
        .join(DatasetEntry, DatasetEntry.image_sha256 == StoredImage.sha256)  # type: ignore[arg-type]
        .join(Dataset, Dataset.id == DatasetEntry.dataset_id)  # type: ignore[arg-type]
        .join(Project, Project.id == Dataset.project_id)  # type: ignore[arg-type]
        .where(Project.name == project_name, DatasetEntry.source_ref == source_ref)
        .limit(1)
    )
    image = session.exec(query).first()
    if image is None:
        raise ResourceNotFoundException(f"Project {project_name} has no image {source_ref}.", resource_type="IMAGE")
    return image


def detection_image_key(session: Session, *, project_name: str, detection_id: int) -> str:
    """Where a logged detection's image is kept, while the retention period keeps it."""
    query = (
        select(Detection.image_key)
        .join(Model, Model.id == Detection.model_id)  # type: ignore[arg-type]
        .join(Project, Project.id == Model.project_id)  # type: ignore[arg-type]
        .where(Project.name == project_name, Detection.id == detection_id)
    )
    key = session.exec(query).first()
    if not key:
        raise ResourceNotFoundException(f"Detection {detection_id} has no stored image.", resource_type="DETECTION")
    return key


def thumbnail_key(sha256: str) -> str:
    return f"{THUMBNAIL_PREFIX}{sha256[:2]}/{sha256}.jpg"


def thumbnail(store: ObjectStore, image: StoredImage) -> bytes:
    """The image's thumbnail, made and stored on first use."""
    key = thumbnail_key(image.sha256)
    if store.exists(key):
        return store.get(key)
    with Image.open(io.BytesIO(store.get(image.key))) as source:
        small = source.convert("RGB")
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=82)
    data = buffer.getvalue()
    store.put(key, data, "image/jpeg")
    return data

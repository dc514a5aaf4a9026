"""Native uploads: several images per request, each with its label and optional anomaly class and mask.

A request names each image by an id of its choosing and sends up to four parts per id (multipart/form-data):
`image.<id>` (file, required), `label.<id>` (`normal`, `anomaly` or `unlabeled`, required), `anomalyClass.<id>`
(optional, needs `anomaly`) and `mask.<id>` (PNG file, optional, needs `anomaly`, same size as the image).

Every part is checked before anything is written; one bad part refuses the whole batch, naming each bad part and why.
Images are read one at a time from the request's spooled files, so memory holds one image, not the batch. The dataset
is created when it does not exist yet (the project must exist), so that uploading is the only step a user needs.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry
from service.domain import datasets
from service.domain.dataset_state import get_dataset
from service.domain.datasets import ImageStats
from service.domain.entries import (
    EntriesRejected,
    PendingEntry,
    PendingImage,
    Problem,
    apply_entries,
    check_labels,
    check_mask_fits,
)
from service.domain.images import ImageRejected, image_key, inspect_image
from service.domain.names import validate_dataset_type
from service.domain.projects import get_project
from service.errors import ConflictException, ResourceNotFoundException, ValidationException
from service.settings import Settings

MAX_IMAGES_PER_UPLOAD = 100
UPLOAD_LABELS = ("normal", "anomaly", "unlabeled")
FILE_FIELDS = ("image", "mask")
TEXT_FIELDS = ("label", "anomalyClass")
_PART_NAME = re.compile(r"^(?P<field>image|label|anomalyClass|mask)\.(?P<id>[A-Za-z0-9_-]{1,64})$")
_MAX_ANOMALY_CLASS = 255
_UNEXPECTED_PART = (
    "unexpected part: expected image.<id>, label.<id>, anomalyClass.<id> or mask.<id>, "
    "where <id> is 1-64 letters, digits, '-' or '_'"
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of the request; `read` returns its bytes (the route keeps them spooled until then)."""

    filename: str
    size: int
    read: Callable[[], bytes]


PartValue = str | UploadedFile


@dataclass
class UploadItem:
    """The parts that share one id."""

    part_id: str
    parts: dict[str, PartValue] = field(default_factory=dict)

    def describe(self, name: str) -> str:
        value = self.parts.get(name)
        where = f"{name}.{self.part_id}"
        return f"{where} ({value.filename})" if isinstance(value, UploadedFile) and value.filename else where


@dataclass(frozen=True)
class IngestedImage:
    source_ref: str
    sha256: str
    duplicate: bool


@dataclass(frozen=True)
class IngestOutcome:
    dataset_created: bool
    stats: ImageStats
    images: list[IngestedImage]


@dataclass(frozen=True)
class UploadedImage:
    part_id: str
    filename: str
    label: str
    result: IngestedImage


@dataclass(frozen=True)
class UploadOutcome:
    ingest: IngestOutcome
    images: list[UploadedImage]


def group_parts(parts: Sequence[tuple[str, PartValue]]) -> tuple[list[UploadItem], list[Problem]]:
    """Gather parts by id, in the order their ids first appear; malformed names and repeated parts are problems."""
    items: dict[str, UploadItem] = {}
    problems: list[Problem] = []
    for name, value in parts:
        match = _PART_NAME.fullmatch(name)
        if match is None:
            problems.append((name or "(unnamed part)", _UNEXPECTED_PART))
            continue
        item = items.setdefault(match["id"], UploadItem(match["id"]))
        if match["field"] in item.parts:
            problems.append((name, "the part is repeated"))
            continue
        item.parts[match["field"]] = value
    return list(items.values()), problems


def prepare_upload(
    items: Sequence[UploadItem], *, settings: Settings, bucket: str
) -> tuple[list[PendingEntry], list[Problem]]:
    """Check every item (reading each file once); nothing is written."""
    pending: list[PendingEntry] = []
    problems: list[Problem] = []
    for item in items:
        try:
            pending.append(_prepare_item(item, settings=settings, bucket=bucket))
        except _PartRejected as exc:
            problems.append((item.describe(exc.field), exc.reason))
    return pending, problems


class _PartRejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _prepare_item(item: UploadItem, *, settings: Settings, bucket: str) -> PendingEntry:
    for name in FILE_FIELDS:
        if name in item.parts and not isinstance(item.parts[name], UploadedFile):
            raise _PartRejected(name, "must be a file part (with a filename), not a text field")
    for name in TEXT_FIELDS:
        if isinstance(item.parts.get(name), UploadedFile):
            raise _PartRejected(name, "must be a text field, not a file")
    if "image" not in item.parts:
        raise _PartRejected(next(iter(item.parts)), f"there is no image.{item.part_id} for this part")
    label = _text(item, "label")
    if label is None:
        raise _PartRejected("image", f"label.{item.part_id} is missing: send normal, anomaly or unlabeled")
    if label not in UPLOAD_LABELS:
        raise _PartRejected("label", f"label {label!r} must be normal, anomaly or unlabeled")
    anomaly_class = _text(item, "anomalyClass") or None
    if anomaly_class is not None and len(anomaly_class) > _MAX_ANOMALY_CLASS:
        raise _PartRejected("anomalyClass", f"the anomaly class is longer than {_MAX_ANOMALY_CLASS} characters")
    entry_label = None if label == "unlabeled" else label
    reason = check_labels(entry_label, anomaly_class, "mask" in item.parts)
    if reason:
        raise _PartRejected("image", reason)
    image = _checked_file(item, "image", settings=settings)
    mask = _checked_file(item, "mask", settings=settings) if "mask" in item.parts else None
    if mask is not None:
        reason = check_mask_fits(image.info, mask.info)
        if reason:
            raise _PartRejected("mask", reason)
    return PendingEntry(
        source_ref=f"s3://{bucket}/{image_key(image.info)}",
        label=entry_label,
        anomaly_class=anomaly_class,
        human_annotated=entry_label is not None,
        manifest_line=None,
        image=image,
        mask=mask,
    )


def _text(item: UploadItem, name: str) -> str | None:
    value = item.parts.get(name)
    return value.strip() if isinstance(value, str) else None


def _checked_file(item: UploadItem, name: str, *, settings: Settings) -> PendingImage:
    upload = item.parts[name]
    assert isinstance(upload, UploadedFile)
    kind = "mask" if name == "mask" else "image"
    if upload.size > settings.max_image_bytes:
        raise _PartRejected(name, f"the {kind} is {upload.size} bytes; the limit is {settings.max_image_bytes} bytes")
    try:
        info = inspect_image(upload.read(), settings=settings, kind=kind)
    except ImageRejected as exc:
        raise _PartRejected(name, exc.reason) from None
    return PendingImage(info, upload.read)


def require_project(*, context: AppContext, project_name: str, dataset_type: str) -> None:
    """Refuse a missing project or a bad dataset type before any image is read."""
    validate_dataset_type(dataset_type)
    with transaction(context.engine) as session:
        get_project(session, name=project_name)


def ensure_dataset(*, context: AppContext, project_name: str, dataset_type: str) -> bool:
    """Create the (empty) dataset unless it exists; True when this call created it. The project must exist."""
    try:
        with transaction(context.engine) as session:
            try:
                get_dataset(session, project_name=project_name, dataset_type=dataset_type)
                return False
            except ResourceNotFoundException:
                datasets.create_dataset(
                    session, context=context, project_name=project_name, dataset_type=dataset_type, source=None
                )
                return True
    except ConflictException:
        return False  # created by a concurrent request


def ingest(
    *,
    context: AppContext,
    project_name: str,
    dataset_type: str,
    pending: Sequence[PendingEntry],
    problems: Sequence[Problem],
) -> IngestOutcome:
    """Apply a checked batch to a dataset (created if missing) with the dataset's update lifecycle; a batch with
    problems is refused before anything, the dataset's status included, changes."""
    if problems:
        raise EntriesRejected(problems, total=len(pending) + len(problems))
    if not pending:
        raise ValidationException("The request holds no images.")
    created = ensure_dataset(context=context, project_name=project_name, dataset_type=dataset_type)
    images: list[IngestedImage] = []
    stats: list[ImageStats] = []

    def work(session: Session, dataset: Dataset) -> None:
        seen = _shas_in_dataset(session, dataset=dataset, pending=pending)
        for change in pending:
            assert change.image is not None
            sha = change.image.info.sha256
            images.append(IngestedImage(source_ref=change.source_ref, sha256=sha, duplicate=sha in seen))
            seen.add(sha)
        apply_entries(session, store=context.store, dataset=dataset, pending=pending)
        stats.append(datasets.image_stats(session, dataset=dataset))

    datasets.run_claimed_update(context=context, project_name=project_name, dataset_type=dataset_type, work=work)
    return IngestOutcome(dataset_created=created, stats=stats[0], images=images)


def _shas_in_dataset(session: Session, *, dataset: Dataset, pending: Sequence[PendingEntry]) -> set[str]:
    shas = sorted({change.image.info.sha256 for change in pending if change.image is not None})
    found: set[str] = set()
    for start in range(0, len(shas), 500):
        query = select(DatasetEntry.image_sha256).where(
            DatasetEntry.dataset_id == dataset.id, col(DatasetEntry.image_sha256).in_(shas[start : start + 500])
        )
        found.update(session.exec(query))
    return found


def upload_images(
    *, context: AppContext, project_name: str, dataset_type: str, parts: Sequence[tuple[str, PartValue]]
) -> UploadOutcome:
    """Add the uploaded images to the dataset, all or nothing."""
    require_project(context=context, project_name=project_name, dataset_type=dataset_type)
    items, problems = group_parts(parts)
    if len(items) > MAX_IMAGES_PER_UPLOAD:
        raise ValidationException(
            f"The request holds {len(items)} images; send at most {MAX_IMAGES_PER_UPLOAD} per request."
        )
    pending, item_problems = prepare_upload(items, settings=context.settings, bucket=context.store.bucket)
    outcome = ingest(
        context=context,
        project_name=project_name,
        dataset_type=dataset_type,
        pending=pending,
        problems=[*problems, *item_problems],
    )
    uploaded = [
        UploadedImage(
            part_id=item.part_id,
            filename=item.parts["image"].filename if isinstance(item.parts["image"], UploadedFile) else "",
            label="unlabeled" if change.label is None else change.label,
            result=result,
        )
        for item, change, result in zip(items, pending, outcome.images, strict=True)
    ]
    return UploadOutcome(ingest=outcome, images=uploaded)

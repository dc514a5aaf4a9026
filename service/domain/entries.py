"""Dataset entries: validate a batch in full, then apply it in one transaction (all or nothing).

A batch is first turned into `PendingEntry` values without writing anything: every image and mask is read and checked,
and every problem is collected with the entry it belongs to. Only a batch without problems is applied. An entry is its
source-ref, as in Lookout for Vision: a change whose source-ref names an existing entry updates it, any other change
adds an entry. Identical bytes are stored once (`store_image` deduplicates by content hash), whatever the number of
source-refs that hold them; that is a storage detail, never an entry's identity.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from service.db.models import Dataset, DatasetEntry, StoredImage, utcnow
from service.domain import stored_objects
from service.domain.images import ImageInfo, store_image
from service.errors import ValidationException
from service.storage import ObjectStore

LABELS = ("normal", "anomaly")
MAX_SOURCE_REF = 2048
_PROBLEMS_IN_MESSAGE = 50
_QUERY_CHUNK = 500


@dataclass(frozen=True)
class PendingImage:
    """A validated image and how to get its bytes again when the batch is applied."""

    info: ImageInfo
    read: Callable[[], bytes]


@dataclass(frozen=True)
class PendingEntry:
    """One validated change. `image=None` relabels the existing entry with this source-ref and keeps its image."""

    source_ref: str
    label: str | None
    anomaly_class: str | None
    human_annotated: bool
    manifest_line: dict | None
    image: PendingImage | None
    mask: PendingImage | None


Problem = tuple[str, str]
"""(which entry, why it was refused)."""


class EntriesRejected(ValidationException):
    """A batch refused as a whole; `problems` names each bad entry and the reason."""

    def __init__(self, problems: Sequence[Problem], *, total: int) -> None:
        self.problems = list(problems)
        self.total = total
        super().__init__(describe_problems(self.problems, total=total))


def describe_problems(problems: Sequence[Problem], *, total: int) -> str:
    shown = "; ".join(f"{where}: {reason}" for where, reason in problems[:_PROBLEMS_IN_MESSAGE])
    more = len(problems) - _PROBLEMS_IN_MESSAGE
    suffix = f"; and {more} more" if more > 0 else ""
    return f"{len(problems)} of {total} entries were refused, so none was applied: {shown}{suffix}"


def check_labels(label: str | None, anomaly_class: str | None, has_mask: bool) -> str | None:
    """Why this label combination is invalid, or None."""
    if label is not None and label not in LABELS:
        return f"label {label!r} must be 'normal', 'anomaly' or absent"
    if has_mask and label != "anomaly":
        return "a mask needs the label 'anomaly'"
    if anomaly_class is not None and label != "anomaly":
        return "an anomaly class needs the label 'anomaly'"
    return None


def check_mask_fits(image: ImageInfo | tuple[int, int], mask: ImageInfo) -> str | None:
    width, height = (image.width, image.height) if isinstance(image, ImageInfo) else image
    if (mask.width, mask.height) != (width, height):
        return f"the mask is {mask.width}x{mask.height} pixels but the image is {width}x{height}"
    return None


def entries_by_source_ref(session: Session, *, dataset: Dataset, refs: Iterable[str]) -> dict[str, DatasetEntry]:
    return {
        entry.source_ref: entry
        for entry in _chunked_select(session, dataset, col(DatasetEntry.source_ref), sorted(set(refs)))
    }


def _chunked_select(session: Session, dataset: Dataset, column: Any, values: list[str]) -> list[DatasetEntry]:
    found: list[DatasetEntry] = []
    for start in range(0, len(values), _QUERY_CHUNK):
        chunk = values[start : start + _QUERY_CHUNK]
        query = select(DatasetEntry).where(DatasetEntry.dataset_id == dataset.id, column.in_(chunk))
        found.extend(session.exec(query))
    return found


def apply_entries(session: Session, *, store: ObjectStore, dataset: Dataset, pending: Sequence[PendingEntry]) -> None:
    """Write a validated batch: store images (deduplicated), then add or update entries by source-ref; later entries
    of the batch win."""
    by_ref = entries_by_source_ref(session, dataset=dataset, refs=[change.source_ref for change in pending])
    now = utcnow()
    replaced: list[str] = []
    for change in pending:
        mask = store_image(session, store, change.mask.read(), change.mask.info) if change.mask else None
        entry = by_ref.get(change.source_ref)
        if change.image is not None:
            stored = store_image(session, store, change.image.read(), change.image.info)
            if entry is None:
                entry = _new_entry(dataset, stored, change.source_ref, now)
            elif entry.image_sha256 != stored.sha256:
                replaced.append(entry.image_sha256)
            entry.image_sha256 = stored.sha256
        assert entry is not None, "a change without an image relabels an existing entry"
        entry.label = change.label
        entry.anomaly_class = change.anomaly_class
        entry.human_annotated = change.human_annotated
        if entry.mask_sha256 is not None and entry.mask_sha256 != (mask.sha256 if mask else None):
            replaced.append(entry.mask_sha256)
        entry.mask_sha256 = mask.sha256 if mask else None
        entry.manifest_line = change.manifest_line or synthesised_line(change, mask=mask, bucket=store.bucket, at=now)
        entry.updated_at = now
        by_ref[change.source_ref] = entry
        session.add(entry)
    dataset.updated_at = now
    session.add(dataset)
    session.flush()
    stored_objects.release(session, store, replaced)


def _new_entry(dataset: Dataset, stored: StoredImage, source_ref: str, now: datetime) -> DatasetEntry:
    assert dataset.id is not None
    return DatasetEntry(
        dataset_id=dataset.id, image_sha256=stored.sha256, source_ref=source_ref, created_at=now, updated_at=now
    )


def synthesised_line(change: PendingEntry, *, mask: StoredImage | None, bucket: str, at: datetime) -> dict[str, Any]:
    """The Ground Truth manifest line for an entry that did not come from a manifest."""
    line: dict[str, Any] = {"source-ref": change.source_ref}
    if change.label is None:
        return line
    created = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    line["anomaly-label"] = 1 if change.label == "anomaly" else 0
    line["anomaly-label-metadata"] = {
        "class-name": change.label,
        "confidence": 1,
        "creation-date": created,
        "human-annotated": "yes" if change.human_annotated else "no",
        "job-name": "openlv",
        "type": "groundtruth/image-classification",
    }
    if mask is not None:
        line["anomaly-mask-ref"] = f"s3://{bucket}/{mask.key}"
        line["anomaly-mask-ref-metadata"] = {
            "internal-color-map": {
                "0": {"class-name": "BACKGROUND", "hex-color": "#000000", "confidence": 0.0},
                "1": {"class-name": change.anomaly_class or "anomaly", "hex-color": "#ffffff", "confidence": 0.0},
            },
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes" if change.human_annotated else "no",
            "creation-date": created,
            "job-name": "openlv",
        }
    return line

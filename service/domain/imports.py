"""Imports of a folder tree in storage (`s3://<bucket>/<prefix>/`: the service's bucket or, with the S3 backend, any
bucket its credentials reach) into one dataset.

Two layouts are understood; object names decide labels, contents are checked like every other image:

`mvtec` (the MVTec AD layout), for each split named in the request (default: the split named like the dataset):
    <split>/good/<name>.<ext>                 normal
    <split>/<defect>/<name>.<ext>             anomaly, anomaly class <defect>
    ground_truth/<defect>/<name>_mask.png     the mask of <split>/<defect>/<name>.<ext>, when present

`folders`:
    normal/<name>.<ext>                       normal
    anomaly/<name>.<ext>                      anomaly
    anomaly/<class>/<name>.<ext>              anomaly, anomaly class <class>
    masks/[<class>/]<name>_mask.png or masks/[<class>/]<name>.png   the mask of the matching anomaly image

Images are `.png`, `.jpg` or `.jpeg` (any case). Other objects, and images elsewhere in the tree, are counted as
ignored. The import is all-or-nothing: any bad image or mask refuses the whole import, naming each one.
"""

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from service.context import AppContext
from service.domain import buckets
from service.domain.entries import PendingEntry, PendingImage, Problem, check_mask_fits
from service.domain.images import ImageRejected, inspect_image
from service.domain.uploads import IngestOutcome, ingest, require_project
from service.errors import ValidationException
from service.storage import ObjectAccessError, ObjectNotFoundError, ObjectStore

Layout = Literal["mvtec", "folders"]
LAYOUTS: tuple[str, ...] = ("mvtec", "folders")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMPORT_IMAGES = 16_000
_NORMAL_FOLDER = "good"
_MASKS_FOLDER = "ground_truth"
_SPLIT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class PlannedEntry:
    """One image found in the tree, before its content is read: keys are relative to the import prefix."""

    image_key: str
    label: str
    anomaly_class: str | None
    mask_key: str | None


@dataclass
class ImportPlan:
    entries: list[PlannedEntry] = field(default_factory=list)
    ignored: int = 0


@dataclass(frozen=True)
class ImportOutcome:
    ingest: IngestOutcome
    normal: int
    anomaly: int
    masks: int
    ignored: int


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def plan_mvtec(keys: Sequence[str], *, splits: Sequence[str]) -> ImportPlan:
    """Which objects of an MVTec tree become which entries; `keys` are relative to the import prefix.

    Other splits and unused ground-truth masks are not part of the import and not counted as ignored."""
    missing = [split for split in splits if not any(key.startswith(f"{split}/") for key in keys)]
    if missing:
        raise ValidationException(f"The mvtec tree has no folder for split(s) {', '.join(missing)}.")
    present = set(keys)
    plan = ImportPlan()
    for key in sorted(keys):
        parts = key.split("/")
        if parts[0] == _MASKS_FOLDER or (len(parts) > 1 and parts[0] not in splits):
            continue
        if len(parts) != 3 or not is_image(parts[2]):
            plan.ignored += 1
        elif parts[1] == _NORMAL_FOLDER:
            plan.entries.append(PlannedEntry(key, "normal", None, None))
        else:
            mask = f"{_MASKS_FOLDER}/{parts[1]}/{PurePosixPath(parts[2]).stem}_mask.png"
            plan.entries.append(PlannedEntry(key, "anomaly", parts[1], mask if mask in present else None))
    return plan


def validate_splits(splits: Sequence[str]) -> list[str]:
    for split in splits:
        if not _SPLIT.fullmatch(split) or split == _MASKS_FOLDER:
            raise ValidationException(f"Invalid split {split!r}: name a top-level folder such as 'train' or 'test'.")
    if len(set(splits)) != len(splits):
        raise ValidationException("Splits must not repeat a split.")
    return list(splits)


def plan_folders(keys: Sequence[str]) -> ImportPlan:
    """Which objects of a `normal/`, `anomaly/`, `masks/` tree become which entries."""
    present = set(keys)
    plan = ImportPlan()
    for key in sorted(keys):
        parts = key.split("/")
        if parts[0] == "masks":
            continue
        if not is_image(parts[-1]):
            plan.ignored += 1
        elif parts[0] == "normal" and len(parts) == 2:
            plan.entries.append(PlannedEntry(key, "normal", None, None))
        elif parts[0] == "anomaly" and len(parts) in (2, 3):
            anomaly_class = parts[1] if len(parts) == 3 else None
            plan.entries.append(PlannedEntry(key, "anomaly", anomaly_class, _folders_mask(parts, present)))
        else:
            plan.ignored += 1
    used_masks = {entry.mask_key for entry in plan.entries}
    plan.ignored += sum(1 for key in keys if key.startswith("masks/") and key not in used_masks)
    return plan


def _folders_mask(parts: list[str], present: set[str]) -> str | None:
    folder = "/".join(["masks", *parts[1:-1]])
    stem = PurePosixPath(parts[-1]).stem
    for candidate in (f"{folder}/{stem}_mask.png", f"{folder}/{stem}.png"):
        if candidate in present:
            return candidate
    return None


def resolve_prefix(uri: str, store: ObjectStore) -> tuple[ObjectStore, str]:
    """The store and key prefix (ending in '/') named by `s3://<bucket>/<prefix>/`, in any reachable bucket."""
    folder = uri.rstrip("/")
    bucket = folder.removeprefix("s3://")
    if folder.startswith("s3://") and bucket and "/" not in bucket:
        raise ValidationException(f"S3Uri {uri!r} must name a folder inside the bucket: s3://{bucket}/<prefix>/")
    source, prefix = buckets.locate(store, folder, what="import folder")
    return source, prefix + "/"


def plan_import(store: ObjectStore, *, prefix: str, layout: str, splits: Sequence[str]) -> ImportPlan:
    try:
        keys = [key[len(prefix) :] for key in store.list(prefix)]
    except ObjectAccessError as exc:
        raise buckets.refusal(exc, what="import folder", uri=f"s3://{store.bucket}/{prefix}") from None
    if layout == "mvtec":
        plan = plan_mvtec(keys, splits=splits)
    else:
        plan = plan_folders(keys)
    if not plan.entries:
        where = f"for splits {', '.join(splits)} " if layout == "mvtec" else ""
        raise ValidationException(
            f"No images found under s3://{store.bucket}/{prefix} {where}in the {layout} layout "
            f"({len(keys)} objects looked at)."
        )
    if len(plan.entries) > MAX_IMPORT_IMAGES:
        raise ValidationException(
            f"The import holds {len(plan.entries)} images; one import takes at most {MAX_IMPORT_IMAGES}."
        )
    return plan


def _checked_reader(store: ObjectStore, key: str, sha256: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            data = store.get(key)
        except ObjectNotFoundError:
            raise ValidationException(
                f"s3://{store.bucket}/{key} disappeared during the import; run it again."
            ) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValidationException(f"s3://{store.bucket}/{key} changed during the import; run the import again.")
        return data

    return read


def _read_checked(store: ObjectStore, key: str, *, context: AppContext, kind: str) -> PendingImage:
    try:
        data = store.get(key)
    except ObjectNotFoundError:
        raise ImageRejected(f"the {kind} disappeared during the import") from None
    except ObjectAccessError as exc:
        raise ImageRejected(buckets.refusal(exc, what=kind, uri=exc.uri).message.rstrip(".")) from None
    info = inspect_image(data, settings=context.settings, kind=kind)
    return PendingImage(info, _checked_reader(store, key, info.sha256))


def prepare_import(
    plan: ImportPlan, *, store: ObjectStore, prefix: str, context: AppContext
) -> tuple[list[PendingEntry], list[Problem]]:
    """Read and check every planned image and mask of `store` once (one in memory at a time); nothing is written."""
    pending: list[PendingEntry] = []
    problems: list[Problem] = []
    for planned in plan.entries:
        image_key = prefix + planned.image_key
        where = f"s3://{store.bucket}/{image_key}"
        try:
            image = _read_checked(store, image_key, context=context, kind="image")
            mask = None
            if planned.mask_key is not None:
                where = f"s3://{store.bucket}/{prefix + planned.mask_key}"
                mask = _read_checked(store, prefix + planned.mask_key, context=context, kind="mask")
                reason = check_mask_fits(image.info, mask.info)
                if reason:
                    raise ImageRejected(reason)
        except ImageRejected as exc:
            problems.append((where, exc.reason))
            continue
        pending.append(
            PendingEntry(
                source_ref=f"s3://{store.bucket}/{image_key}",
                label=planned.label,
                anomaly_class=planned.anomaly_class,
                human_annotated=True,
                manifest_line=None,
                image=image,
                mask=mask,
            )
        )
    return pending, problems


def import_entries(
    *,
    context: AppContext,
    project_name: str,
    dataset_type: str,
    source_uri: str,
    layout: str,
    splits: Sequence[str] | None,
) -> ImportOutcome:
    """Import a tree into one dataset (created if missing), all or nothing."""
    require_project(context=context, project_name=project_name, dataset_type=dataset_type)
    if layout not in LAYOUTS:
        raise ValidationException(f"Layout {layout!r} is not supported; use one of: {', '.join(LAYOUTS)}.")
    if layout == "folders" and splits:
        raise ValidationException("Splits apply to the mvtec layout only.")
    chosen_splits = validate_splits(splits) if splits else [dataset_type]
    source, prefix = resolve_prefix(source_uri, context.store)
    plan = plan_import(source, prefix=prefix, layout=layout, splits=chosen_splits)
    pending, problems = prepare_import(plan, store=source, prefix=prefix, context=context)
    outcome = ingest(
        context=context, project_name=project_name, dataset_type=dataset_type, pending=pending, problems=problems
    )
    return ImportOutcome(
        ingest=outcome,
        normal=sum(1 for entry in plan.entries if entry.label == "normal"),
        anomaly=sum(1 for entry in plan.entries if entry.label == "anomaly"),
        masks=sum(1 for entry in plan.entries if entry.mask_key is not None),
        ignored=plan.ignored,
    )

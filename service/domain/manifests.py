"""SageMaker Ground Truth manifests (JSON Lines), the format Lookout for Vision imports and lists entries in.

A line names its image by `source-ref` (an s3:// URI in the configured bucket), its label by `anomaly-label` (0 normal,
1 anomaly) with `anomaly-label-metadata.class-name` saying the same in words, and optionally a segmentation mask by
`anomaly-mask-ref` with its colour map in `anomaly-mask-ref-metadata.internal-color-map`.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.entries import (
    MAX_SOURCE_REF,
    PendingEntry,
    PendingImage,
    Problem,
    check_labels,
    check_mask_fits,
)
from service.domain.images import ImageInfo, ImageRejected, inspect_image
from service.errors import ValidationException
from service.settings import Settings
from service.storage import ObjectNotFoundError, ObjectStore, StorageError, parse_s3_uri

MAX_LINE_CHARS = 8192
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_LABELS_BY_VALUE = {0: "normal", 1: "anomaly"}


class LineRejected(Exception):
    """One bad manifest line; `source_ref` when the line got far enough to name its image."""

    def __init__(self, reason: str, *, source_ref: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source_ref = source_ref


@dataclass(frozen=True)
class ManifestLine:
    number: int
    source_ref: str
    label: str | None
    human_annotated: bool
    mask_ref: str | None
    anomaly_class: str | None
    line: dict[str, Any]


def read_manifest_object(store: ObjectStore, *, bucket: str, key: str, version_id: str | None) -> bytes:
    """The manifest named by CreateDataset's DatasetSource.GroundTruthManifest.S3Object."""
    if bucket != store.bucket:
        raise ValidationException(f"The manifest must be in bucket {store.bucket!r}; got {bucket!r}.")
    if version_id:
        raise ValidationException("Object versions are not supported: omit VersionId to use the stored manifest.")
    try:
        data = store.get(parse_s3_uri(f"s3://{bucket}/{key}", store.bucket))
    except ObjectNotFoundError:
        raise ValidationException(f"The manifest s3://{bucket}/{key} does not exist.") from None
    except StorageError as exc:
        raise ValidationException(f"The manifest's location is not valid: {exc}.") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ValidationException(f"The manifest is {len(data)} bytes; the limit is {MAX_MANIFEST_BYTES} bytes.")
    return data


def prepare_manifest(
    data: bytes,
    *,
    settings: Settings,
    store: ObjectStore,
    existing_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[list[PendingEntry], list[Problem], int]:
    """Validate every line and every image it references; (changes, problems, number of lines). Nothing is written.

    A line whose source-ref names an entry in `existing_sizes` (source-ref -> image width, height) relabels that entry
    and keeps its image; any other line adds the image it references."""
    existing_sizes = existing_sizes or {}
    pending: list[PendingEntry] = []
    problems: list[Problem] = []
    lines = list(numbered_lines(data))
    if not lines:
        raise ValidationException("The manifest holds no JSON lines.")
    for number, text in lines:
        try:
            parsed = parse_line(number, text)
        except LineRejected as exc:
            problems.append((f"line {number} ({exc.source_ref})" if exc.source_ref else f"line {number}", exc.reason))
            continue
        try:
            pending.append(_resolve(parsed, settings=settings, store=store, existing_sizes=existing_sizes))
        except (LineRejected, ImageRejected) as exc:
            problems.append((f"line {number} ({parsed.source_ref})", exc.reason))
    return pending, problems, len(lines)


def numbered_lines(data: bytes) -> list[tuple[int, str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationException(f"The manifest is not UTF-8 text ({exc}).") from None
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_line(number: int, text: str) -> ManifestLine:
    """Check one line's syntax, keys and label consistency; no storage access."""
    if len(text) > MAX_LINE_CHARS:
        raise LineRejected(f"the line is {len(text)} characters; the limit is {MAX_LINE_CHARS}")
    try:
        line = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineRejected(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(line, dict):
        raise LineRejected("the line must be a JSON object")
    source_ref = line.get("source-ref")
    if not isinstance(source_ref, str) or not 1 <= len(source_ref) <= MAX_SOURCE_REF:
        raise LineRejected(f"'source-ref' must be a string of 1..{MAX_SOURCE_REF} characters")
    try:
        label, human_annotated = _label(line)
        mask_ref, anomaly_class = _mask(line)
    except LineRejected as exc:
        raise LineRejected(exc.reason, source_ref=source_ref) from None
    reason = check_labels(label, anomaly_class, mask_ref is not None)
    if reason:
        raise LineRejected(reason, source_ref=source_ref)
    return ManifestLine(number, source_ref, label, human_annotated, mask_ref, anomaly_class, line)


def _label(line: dict[str, Any]) -> tuple[str | None, bool]:
    value, metadata = line.get("anomaly-label"), line.get("anomaly-label-metadata")
    if value is None:
        if metadata is not None:
            raise LineRejected("'anomaly-label-metadata' without 'anomaly-label'")
        return None, False
    if isinstance(value, bool) or value not in _LABELS_BY_VALUE:
        raise LineRejected(f"'anomaly-label' must be 0 (normal) or 1 (anomaly); got {value!r}")
    label = _LABELS_BY_VALUE[value]
    if not isinstance(metadata, dict):
        raise LineRejected("'anomaly-label-metadata' must be an object with 'class-name'")
    class_name = metadata.get("class-name")
    if class_name != label:
        raise LineRejected(f"'anomaly-label' {value} means {label!r} but 'class-name' is {class_name!r}")
    human = metadata.get("human-annotated", "yes")
    if human not in ("yes", "no"):
        raise LineRejected(f"'human-annotated' must be 'yes' or 'no'; got {human!r}")
    return label, human == "yes"


def _mask(line: dict[str, Any]) -> tuple[str | None, str | None]:
    """The mask URI and the anomaly classes its colour map names (comma-separated), if the line has a mask."""
    mask_ref, metadata = line.get("anomaly-mask-ref"), line.get("anomaly-mask-ref-metadata")
    if mask_ref is None:
        if metadata is not None:
            raise LineRejected("'anomaly-mask-ref-metadata' without 'anomaly-mask-ref'")
        return None, None
    if not isinstance(mask_ref, str) or not mask_ref:
        raise LineRejected("'anomaly-mask-ref' must be an s3:// URI")
    if metadata is None:
        return mask_ref, None
    color_map = metadata.get("internal-color-map") if isinstance(metadata, dict) else None
    if not isinstance(color_map, dict):
        raise LineRejected("'anomaly-mask-ref-metadata' must be an object with an 'internal-color-map' object")
    classes = []
    for index, colour in color_map.items():
        if not isinstance(colour, dict) or not isinstance(colour.get("class-name"), str):
            raise LineRejected(f"internal-color-map entry {index!r} needs a 'class-name'")
        if not _is_hex_colour(colour.get("hex-color")):
            raise LineRejected(f"internal-color-map entry {index!r} needs a 'hex-color' like '#ff0000'")
        if colour["class-name"].upper() != "BACKGROUND":
            classes.append(colour["class-name"])
    return mask_ref, ",".join(sorted(set(classes)))[:255] or None


def _is_hex_colour(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )


def _resolve(
    parsed: ManifestLine, *, settings: Settings, store: ObjectStore, existing_sizes: Mapping[str, tuple[int, int]]
) -> PendingEntry:
    image: PendingImage | None = None
    size = existing_sizes.get(parsed.source_ref)
    if size is None:
        image = _read_checked(parsed.source_ref, settings=settings, store=store, kind="image")
        size = (image.info.width, image.info.height)
    mask = None
    if parsed.mask_ref is not None:
        mask = _read_checked(parsed.mask_ref, settings=settings, store=store, kind="mask")
        reason = check_mask_fits(size, mask.info)
        if reason:
            raise LineRejected(reason)
    return PendingEntry(
        source_ref=parsed.source_ref,
        label=parsed.label,
        anomaly_class=parsed.anomaly_class,
        human_annotated=parsed.human_annotated,
        manifest_line=parsed.line,
        image=image,
        mask=mask,
    )


def _read_checked(uri: str, *, settings: Settings, store: ObjectStore, kind: str) -> PendingImage:
    """Read and validate the object at `uri`; its bytes are read again when the batch is applied."""
    try:
        key = parse_s3_uri(uri, store.bucket)
        data = store.get(key)
    except StorageError as exc:
        raise LineRejected(f"{kind} {exc}") from None
    info = inspect_image(data, settings=settings, kind=kind)
    return PendingImage(info, _reader(store, key, uri, info))


def _reader(store: ObjectStore, key: str, uri: str, info: ImageInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            data = store.get(key)
        except ObjectNotFoundError:
            raise ValidationException(f"{uri} disappeared while the batch was being applied; send it again.") from None
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise ValidationException(f"{uri} changed while the batch was being applied; send the batch again.")
        return data

    return read

"""SageMaker Ground Truth manifests (JSON Lines), the format Lookout for Vision imports and lists entries in.

A line names its image by `source-ref` (an s3:// URI), its label by the attribute whose `<attribute>-metadata` object
has `"type": "groundtruth/image-classification"` (Ground Truth names it after the labelling job; `anomaly-label` is
also recognised by name) with the value 0 (normal) or 1 (anomaly), as a number or a string, and `class-name` saying the
same in words. An optional segmentation mask is found the same way, through the metadata type
`groundtruth/semantic-segmentation` (or `anomaly-mask-ref` by name), with its colour map in `internal-color-map`.
Lines are stored as given, so the attribute names, class names and colours come back in ListDatasetEntries. A line that
holds attributes but no label this rule finds is refused, never imported unlabelled.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.domain import buckets
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
from service.storage import ObjectAccessError, ObjectNotFoundError, ObjectStore

MAX_LINE_CHARS = 8192
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_LABELS_BY_VALUE: dict[int | str, str] = {0: "normal", 1: "anomaly", "0": "normal", "1": "anomaly"}
CLASSIFICATION = "groundtruth/image-classification"
SEGMENTATION = "groundtruth/semantic-segmentation"
DEFAULT_LABEL_ATTRIBUTE = "anomaly-label"
DEFAULT_MASK_ATTRIBUTE = "anomaly-mask-ref"
_METADATA = "-metadata"


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
    """The manifest named by CreateDataset's DatasetSource.GroundTruthManifest.S3Object, in any reachable bucket."""
    if version_id:
        raise ValidationException("Object versions are not supported: omit VersionId to use the stored manifest.")
    source, checked_key = buckets.locate(store, f"s3://{bucket}/{key}", what="manifest")
    data = buckets.read(source, checked_key, what="manifest")
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
    """The line's label, found as Lookout for Vision found it: the attribute whose `<name>-metadata` has type
    `groundtruth/image-classification` (or `anomaly-label` by name), with the value 0 or 1 (a number or a string)."""
    attribute = _only_attribute(line, CLASSIFICATION, DEFAULT_LABEL_ATTRIBUTE, what="label")
    if attribute is None:
        others = sorted(key for key in line if key != "source-ref")
        if others:
            raise LineRejected(
                f"no label found among {', '.join(repr(key) for key in others)}: a label is an attribute whose "
                f"'<attribute>-metadata' object has \"type\": \"{CLASSIFICATION}\" (or 'anomaly-label')"
            )
        return None, False
    value, metadata = line.get(attribute), line.get(f"{attribute}-metadata")
    if value is None:
        raise LineRejected(f"'{attribute}-metadata' without '{attribute}'")
    label = _LABELS_BY_VALUE.get(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if label is None:
        raise LineRejected(f"{attribute!r} must be 0 (normal) or 1 (anomaly), as a number or a string; got {value!r}")
    if not isinstance(metadata, dict):
        raise LineRejected(f"'{attribute}-metadata' must be an object with 'class-name'")
    class_name = metadata.get("class-name")
    if class_name != label:
        raise LineRejected(f"{attribute!r} {value!r} means {label!r} but 'class-name' is {class_name!r}")
    human = metadata.get("human-annotated", "yes")
    if human not in ("yes", "no"):
        raise LineRejected(f"'human-annotated' must be 'yes' or 'no'; got {human!r}")
    return label, human == "yes"


def _only_attribute(line: dict[str, Any], metadata_type: str, default: str, *, what: str) -> str | None:
    """The one attribute of the line whose metadata has `metadata_type` (or the default name); None when absent."""
    found = {
        key.removesuffix(_METADATA)
        for key, value in line.items()
        if key.endswith(_METADATA) and isinstance(value, dict) and value.get("type") == metadata_type
    }
    if default in line or f"{default}{_METADATA}" in line:
        found.add(default)
    if len(found) > 1:
        names = ", ".join(repr(name) for name in sorted(found))
        raise LineRejected(f"the line has {len(found)} {what} attributes ({names}); a line holds one")
    return found.pop() if found else None


def _mask(line: dict[str, Any]) -> tuple[str | None, str | None]:
    """The mask URI and the anomaly classes its colour map names (comma-separated), if the line has a mask: the
    attribute whose metadata has type `groundtruth/semantic-segmentation` (or `anomaly-mask-ref` by name)."""
    attribute = _only_attribute(line, SEGMENTATION, DEFAULT_MASK_ATTRIBUTE, what="mask")
    if attribute is None:
        return None, None
    mask_ref, metadata = line.get(attribute), line.get(f"{attribute}{_METADATA}")
    if mask_ref is None:
        raise LineRejected(f"'{attribute}-metadata' without '{attribute}'")
    if not isinstance(mask_ref, str) or not mask_ref:
        raise LineRejected(f"{attribute!r} must be an s3:// URI")
    if metadata is None:
        return mask_ref, None
    color_map = metadata.get("internal-color-map") if isinstance(metadata, dict) else None
    if not isinstance(color_map, dict):
        raise LineRejected(f"'{attribute}-metadata' must be an object with an 'internal-color-map' object")
    classes = []
    for index, colour in color_map.items():
        if not isinstance(colour, dict) or not isinstance(colour.get("class-name"), str):
            raise LineRejected(f"internal-color-map entry {index!r} needs a 'class-name'")
        if not _is_hex_colour(colour.get("hex-color")):
            raise LineRejected(f"internal-color-map entry {index!r} needs a 'hex-color' like '#ff0000'")
        if colour["class-name"].upper() != "BACKGROUND":
            classes.append(colour["class-name"])
    return mask_ref, ",".join(sorted(set(classes)))[:255] or None


def mask_colors(line: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A stored line's mask colour map as (hex colour, class name) pairs, in the map's order; () without one."""
    try:
        attribute = _only_attribute(line, SEGMENTATION, DEFAULT_MASK_ATTRIBUTE, what="mask")
    except LineRejected:
        return ()
    metadata = line.get(f"{attribute}{_METADATA}") if attribute is not None else None
    color_map = metadata.get("internal-color-map") if isinstance(metadata, dict) else None
    if not isinstance(color_map, dict):
        return ()
    return tuple(
        (entry["hex-color"], entry["class-name"])
        for _, entry in sorted(color_map.items(), key=lambda item: str(item[0]).zfill(8))
        if isinstance(entry, dict)
        and isinstance(entry.get("class-name"), str)
        and _is_hex_colour(entry.get("hex-color"))
    )


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
    """Read and validate the object at `uri` (in any reachable bucket); its bytes are read again when the batch is
    applied."""
    try:
        source, key = buckets.locate(store, uri, what=kind)
        data = buckets.read(source, key, what=kind)
    except ValidationException as exc:
        raise LineRejected(exc.message.rstrip(".")) from None
    info = inspect_image(data, settings=settings, kind=kind)
    return PendingImage(info, _reader(source, key, uri, info, kind))


def _reader(store: ObjectStore, key: str, uri: str, info: ImageInfo, kind: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            data = store.get(key)
        except ObjectNotFoundError:
            raise ValidationException(f"{uri} disappeared while the batch was being applied; send it again.") from None
        except ObjectAccessError as exc:
            raise buckets.refusal(exc, what=kind, uri=exc.uri) from None
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise ValidationException(f"{uri} changed while the batch was being applied; send the batch again.")
        return data

    return read

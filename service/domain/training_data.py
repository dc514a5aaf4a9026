"""Lookout for Vision's dataset rules for training, and the images a training run uses.

With a train and a test dataset: train needs >= 10 normal images, test >= 10 normal and >= 10 anomalous. With a train
dataset only, the service splits it: it needs >= 20 normal and >= 10 anomalous images; every anomalous image and a
fifth of the normal ones (at least 10) go to the test split, chosen by content hash so the split is reproducible.
Unlabeled entries are not used, nor are anomalous images of the train dataset for the anomaly model: the engine's
models learn from normal images only. An image's mask keeps the colour map of its manifest line, so the classes it
names reach the engine, which learns them from every labelled anomaly with a mask: the test split's, and the train
dataset's when a test dataset exists (`TrainingSplit.class_examples`).
"""

import hashlib
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from service.db.models import Dataset, DatasetEntry, Project, StoredImage
from service.domain.manifests import mask_colors
from service.errors import ValidationException

MIN_TRAIN_NORMAL = 10
MIN_TEST_NORMAL = 10
MIN_TEST_ANOMALOUS = 10
MIN_SPLIT_NORMAL = 20
MIN_SPLIT_ANOMALOUS = 10
SPLIT_TEST_FRACTION = 0.2
READY_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
LABELS = {"normal": 0, "anomaly": 1}


@dataclass(frozen=True)
class TrainingImage:
    """One labelled image of a training run, by storage key; `label` is 0 normal, 1 anomalous; `mask_colors` the
    mask's colour map ((hex colour, class name) pairs, () when the line has none)."""

    sha256: str
    key: str
    label: int
    source_ref: str
    mask_key: str | None
    mask_colors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TrainingSplit:
    train: list[TrainingImage]
    test: list[TrainingImage]
    auto_split: bool
    class_examples: list[TrainingImage] = field(default_factory=list)


def _datasets(session: Session, project: Project) -> dict[str, Dataset]:
    return {d.dataset_type: d for d in session.exec(select(Dataset).where(Dataset.project_id == project.id))}


def _counts(session: Session, dataset: Dataset) -> dict[str, int]:
    counts = {"normal": 0, "anomaly": 0}
    query = select(DatasetEntry.label).where(
        DatasetEntry.dataset_id == dataset.id, col(DatasetEntry.label).in_(list(LABELS))
    )
    for label in session.exec(query):
        counts[label] += 1  # type: ignore[index]
    return counts


def _shortfall(kind: str, counts: dict[str, int], needs: dict[str, int]) -> list[str]:
    words = {"normal": "normal", "anomaly": "anomalous"}
    return [
        f"the {kind} dataset needs at least {minimum} {words[label]} images and has {counts[label]}"
        for label, minimum in needs.items()
        if counts[label] < minimum
    ]


def check_training_data(session: Session, *, project: Project) -> None:
    """Raise ValidationException naming every missing dataset, unfinished dataset and missing image."""
    datasets = _datasets(session, project)
    if "train" not in datasets:
        raise ValidationException(
            f"Project {project.name} has no train dataset; create one with CreateDataset before training."
        )
    busy = [f"{kind} is {d.status}" for kind, d in sorted(datasets.items()) if d.status not in READY_STATUSES]
    if busy:
        raise ValidationException(f"Datasets are not ready for training ({'; '.join(busy)}); wait and retry.")
    train = _counts(session, datasets["train"])
    if "test" in datasets:
        problems = _shortfall("train", train, {"normal": MIN_TRAIN_NORMAL})
        problems += _shortfall(
            "test", _counts(session, datasets["test"]), {"normal": MIN_TEST_NORMAL, "anomaly": MIN_TEST_ANOMALOUS}
        )
    else:
        problems = _shortfall("train", train, {"normal": MIN_SPLIT_NORMAL, "anomaly": MIN_SPLIT_ANOMALOUS})
        if problems:
            problems[0] = "without a test dataset, " + problems[0]
    if problems:
        raise ValidationException(f"Cannot train a model for project {project.name}: {'; '.join(problems)}.")


def _images(session: Session, dataset: Dataset) -> list[TrainingImage]:
    query = (
        select(DatasetEntry, StoredImage)
        .join(StoredImage, col(StoredImage.sha256) == col(DatasetEntry.image_sha256))
        .where(DatasetEntry.dataset_id == dataset.id, col(DatasetEntry.label).in_(list(LABELS)))
        .order_by(col(DatasetEntry.id))
    )
    rows = list(session.exec(query))
    mask_shas = {entry.mask_sha256 for entry, _ in rows if entry.mask_sha256}
    mask_keys = {
        stored.sha256: stored.key
        for stored in session.exec(select(StoredImage).where(col(StoredImage.sha256).in_(mask_shas)))
    }
    return [
        TrainingImage(
            sha256=entry.image_sha256,
            key=stored.key,
            label=LABELS[entry.label],  # type: ignore[index]
            source_ref=entry.source_ref,
            mask_key=mask_keys.get(entry.mask_sha256) if entry.mask_sha256 else None,
            mask_colors=mask_colors(entry.manifest_line or {}) if entry.mask_sha256 else (),
        )
        for entry, stored in rows
    ]


def _split(images: list[TrainingImage]) -> TrainingSplit:
    normal = sorted((i for i in images if i.label == 0), key=lambda i: hashlib.sha256(i.sha256.encode()).hexdigest())
    test_normal = max(MIN_TEST_NORMAL, round(len(normal) * SPLIT_TEST_FRACTION))
    anomalous = [i for i in images if i.label == 1]
    return TrainingSplit(train=normal[test_normal:], test=normal[:test_normal] + anomalous, auto_split=True)


def training_split(session: Session, *, project: Project) -> TrainingSplit:
    """The train and test images of a run (after `check_training_data` accepted the project)."""
    datasets = _datasets(session, project)
    train = _images(session, datasets["train"])
    if "test" not in datasets:
        return _split(train)
    normal = [image for image in train if image.label == 0]
    masked = [image for image in train if image.label == 1 and image.mask_key is not None]
    return TrainingSplit(train=normal, test=_images(session, datasets["test"]), auto_split=False, class_examples=masked)

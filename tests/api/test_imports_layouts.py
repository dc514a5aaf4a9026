"""Which objects of a tree become which entries, without a server (service.domain.imports planning)."""

import pytest

from service.domain.imports import PlannedEntry, plan_folders, plan_mvtec, validate_splits
from service.errors import ValidationException

MVTEC = [
    "license.txt",
    "train/good/000.png",
    "train/good/001.PNG",
    "train/good/notes.txt",
    "test/good/000.png",
    "test/crack/000.png",
    "test/crack/001.jpg",
    "test/crack/deeper/002.png",
    "ground_truth/crack/000_mask.png",
    "ground_truth/crack/001_mask.png",
    "ground_truth/hole/000_mask.png",
]


def test_mvtec_train_split() -> None:
    plan = plan_mvtec(MVTEC, splits=["train"])
    assert plan.entries == [
        PlannedEntry("train/good/000.png", "normal", None, None),
        PlannedEntry("train/good/001.PNG", "normal", None, None),
    ]
    assert plan.ignored == 2  # license.txt, train/good/notes.txt; test/ and ground_truth/ are not part of it


def test_mvtec_test_split_labels_defects_and_finds_masks() -> None:
    plan = plan_mvtec(MVTEC, splits=["test"])
    assert plan.entries == [
        PlannedEntry("test/crack/000.png", "anomaly", "crack", "ground_truth/crack/000_mask.png"),
        PlannedEntry("test/crack/001.jpg", "anomaly", "crack", "ground_truth/crack/001_mask.png"),
        PlannedEntry("test/good/000.png", "normal", None, None),
    ]
    assert plan.ignored == 2  # license.txt and the image nested too deep


def test_mvtec_both_splits_into_one_dataset() -> None:
    assert len(plan_mvtec(MVTEC, splits=["train", "test"]).entries) == 5


def test_mvtec_missing_split_is_refused() -> None:
    with pytest.raises(ValidationException, match="no folder for split.*validation"):
        plan_mvtec(MVTEC, splits=["validation"])


@pytest.mark.parametrize("splits", [["ground_truth"], ["../train"], ["train", "train"], [""]])
def test_invalid_splits_are_refused(splits: list[str]) -> None:
    with pytest.raises(ValidationException):
        validate_splits(splits)


def test_folders_layout() -> None:
    keys = [
        "normal/a.png",
        "normal/b.jpeg",
        "normal/nested/c.png",
        "anomaly/d.png",
        "anomaly/scratch/e.png",
        "anomaly/scratch/f.png",
        "masks/d_mask.png",
        "masks/scratch/e.png",
        "masks/orphan_mask.png",
        "README.md",
    ]
    plan = plan_folders(keys)
    assert plan.entries == [
        PlannedEntry("anomaly/d.png", "anomaly", None, "masks/d_mask.png"),
        PlannedEntry("anomaly/scratch/e.png", "anomaly", "scratch", "masks/scratch/e.png"),
        PlannedEntry("anomaly/scratch/f.png", "anomaly", "scratch", None),
        PlannedEntry("normal/a.png", "normal", None, None),
        PlannedEntry("normal/b.jpeg", "normal", None, None),
    ]
    assert plan.ignored == 3  # normal/nested/c.png, README.md, the orphan mask

"""Datasets through the typed SDK: create, upload in batches with progress, MVTec/folder trees, entries."""

import json
from pathlib import Path

import pytest

import sdk
from tests.helpers.data import png_bytes, synthetic_dataset


def write_pngs(folder: Path, count: int, *, seed: int = 0, size: int = 64) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"img-{index:02d}.png"
        path.write_bytes(png_bytes((size, size), seed=seed + index))
        paths.append(path)
    return paths


def test_create_describe_and_delete(project):
    created = project.datasets.create("test")
    assert created.dataset_type == "test"
    assert created.status == "CREATE_COMPLETE"
    assert created.image_stats.total == 0
    assert [dataset.dataset_type for dataset in project.datasets.list()] == ["test"]
    created.delete()
    with pytest.raises(sdk.NotFoundError):
        project.datasets.describe("test").wait(timeout=10)


def test_upload_folder_in_batches_with_progress(project, tmp_path):
    write_pngs(tmp_path / "good", 5)
    calls: list[tuple[int, int]] = []
    result = project.datasets.upload(
        tmp_path / "good", label="normal", batch_size=2, progress=lambda *a: calls.append(a)
    )
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert result.dataset_created is True
    assert result.image_stats.normal == 5
    assert {Path(image.path).name for image in result.images} == {f"img-{i:02d}.png" for i in range(5)}
    assert result.duplicates == 0

    again = project.datasets.upload(sorted((tmp_path / "good").iterdir())[:2], label="normal")
    assert again.dataset_created is False
    assert again.duplicates == 2
    assert project.datasets.describe("train").image_stats.total == 5


def test_anomaly_upload_and_entry_filters(project, tmp_path):
    write_pngs(tmp_path / "good", 3)
    write_pngs(tmp_path / "bad", 2, seed=50)
    project.datasets.upload(tmp_path / "good", label="normal", dataset_type="test")
    project.datasets.upload(tmp_path / "bad", label="anomaly", anomaly_class="scratch", dataset_type="test")

    entries = list(project.datasets.entries("test", page_size=2))
    assert len(entries) == 5
    assert sorted(entry.label or "" for entry in entries) == ["anomaly"] * 2 + ["normal"] * 3
    anomalies = list(project.datasets.entries("test", anomaly_class="anomaly"))
    assert len(anomalies) == 2
    assert all(entry.source_ref.startswith("s3://") for entry in anomalies)
    assert json.loads(json.dumps(anomalies[0].line))["anomaly-label"] == 1


def test_upload_refuses_bad_images_with_validation_error(project, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(sdk.ValidationError):
        project.datasets.upload(tmp_path / "broken.png")
    with pytest.raises(FileNotFoundError):
        project.datasets.upload(tmp_path / "missing")
    with pytest.raises(ValueError):
        project.datasets.upload(tmp_path, label="maybe")


def test_import_mvtec_tree_fills_train_and_test(project, tmp_path):
    root = synthetic_dataset(tmp_path, n_train=4, n_test_good=2, n_test_defect=1, size=64)
    results = project.datasets.import_mvtec(root)
    assert set(results) == {"train", "test"}
    train = project.datasets.describe("train").image_stats
    assert (train.total, train.normal, train.anomaly) == (4, 4, 0)
    test = project.datasets.describe("test").image_stats
    defects = sum(1 for folder in (root / "test").iterdir() if folder.name != "good" for _ in folder.iterdir())
    assert (test.normal, test.anomaly) == (2, defects)
    masked = [entry for entry in project.datasets.entries("test") if entry.mask_ref]
    assert len(masked) == defects
    assert {entry.anomaly_class for entry in masked} <= {"scratch", "spot", "crack"}


def test_import_folders_tree(project, tmp_path):
    write_pngs(tmp_path / "tree" / "normal", 2)
    write_pngs(tmp_path / "tree" / "anomaly" / "dent", 1, seed=9)
    result = project.datasets.import_folders(tmp_path / "tree", dataset_type="test")
    assert isinstance(result, sdk.UploadResult)
    assert (result.image_stats.normal, result.image_stats.anomaly) == (2, 1)


def test_update_entries_relabels(project, tmp_path):
    write_pngs(tmp_path / "imgs", 2)
    project.datasets.upload(tmp_path / "imgs", label="unlabeled")
    entry = next(project.datasets.entries("train"))
    assert entry.label is None
    line = {
        "source-ref": entry.source_ref,
        "anomaly-label": 1,
        "anomaly-label-metadata": {
            "class-name": "anomaly",
            "human-annotated": "yes",
            "type": "groundtruth/image-classification",
        },
    }
    assert project.datasets.update_entries("train", [line]).startswith("UPDATE")
    project.datasets.describe("train").wait(timeout=30)
    assert [e.label for e in project.datasets.entries("train", labeled=True)] == ["anomaly"]


def test_entries_read_labels_and_masks_under_any_attribute_name():
    from sdk.resources.datasets import DatasetEntry

    line = {
        "source-ref": "s3://customer/a.png",
        "auto-label": "1",
        "auto-label-metadata": {"class-name": "anomaly", "type": "groundtruth/image-classification"},
        "auto-mask": "s3://customer/a-mask.png",
        "auto-mask-metadata": {
            "type": "groundtruth/semantic-segmentation",
            "internal-color-map": {"0": {"class-name": "BACKGROUND"}, "1": {"class-name": "crack"}},
        },
    }
    entry = DatasetEntry.parse(json.dumps(line))
    assert (entry.label, entry.anomaly_class, entry.mask_ref) == ("anomaly", "crack", "s3://customer/a-mask.png")

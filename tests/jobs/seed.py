"""Projects with labelled datasets written straight into a service's database and storage, for training tests.

Images come from the engine's synthetic MVTec-style generator (64 px), so datasets are small and training takes seconds.
"""

from pathlib import Path

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry
from service.domain.images import inspect_image, store_image
from service.domain.projects import create_project
from service.engine.synthetic import make_synthetic_dataset

FAST_TRAINING = {
    "Algorithm": "patchcore",
    "BackboneWeights": "random",
    "ImageSize": 64,
    "Hyperparameters": {"coreset_ratio": "0.5"},
}
OUTPUT = {"S3Location": {"Bucket": "openlv", "Prefix": "training-output/"}}


def synthetic_images(folder: Path, *, normal: int, anomalous: int, seed: int = 0) -> dict[str, list[Path]]:
    """`normal` good images and `anomalous` defective ones (with masks) of 64 px."""
    per_defect = -(-anomalous // 3)
    root = make_synthetic_dataset(folder, n_train=normal, n_test_good=0, n_test_defect=per_defect, size=64, seed=seed)
    defects = sorted(p for p in (root / "test").glob("*/*.png") if p.parent.name != "good")[:anomalous]
    return {"normal": sorted((root / "train" / "good").glob("*.png")), "anomaly": defects}


def _add_dataset(context: AppContext, project_id: int, kind: str, images: dict[str, list[Path]], root: Path) -> None:
    with transaction(context.engine) as session:
        dataset = Dataset(project_id=project_id, dataset_type=kind, status="CREATE_COMPLETE")
        session.add(dataset)
        session.flush()
        for label, paths in images.items():
            for path in paths:
                data = path.read_bytes()
                stored = store_image(session, context.store, data, inspect_image(data, settings=context.settings))
                mask = None
                mask_path = root / "ground_truth" / path.parent.name / f"{path.stem}_mask.png"
                if label == "anomaly" and mask_path.is_file():
                    mask_data = mask_path.read_bytes()
                    info = inspect_image(mask_data, settings=context.settings, kind="mask")
                    mask = store_image(session, context.store, mask_data, info)
                session.add(
                    DatasetEntry(
                        dataset_id=dataset.id,  # type: ignore[arg-type]
                        image_sha256=stored.sha256,
                        mask_sha256=mask.sha256 if mask else None,
                        source_ref=f"s3://{context.settings.storage_bucket}/{kind}/{path.parent.name}/{path.name}",
                        label=label,
                    )
                )


def seed_project(
    context: AppContext,
    name: str,
    folder: Path,
    *,
    train: tuple[int, int],
    test: tuple[int, int] | None,
) -> None:
    """A project whose train dataset has (normal, anomalous) images, and a test dataset when `test` is given."""
    with transaction(context.engine) as session:
        project_id = create_project(session, name=name).id
    assert project_id is not None
    train_root, test_root = folder / "train-images", folder / "test-images"
    _add_dataset(context, project_id, "train", _pick(train_root, *train, seed=1), train_root)
    if test is not None:
        _add_dataset(context, project_id, "test", _pick(test_root, *test, seed=2), test_root)


def _pick(root: Path, normal: int, anomalous: int, *, seed: int) -> dict[str, list[Path]]:
    images = synthetic_images(root, normal=normal, anomalous=anomalous, seed=seed)
    return {label: paths for label, paths in images.items() if paths}

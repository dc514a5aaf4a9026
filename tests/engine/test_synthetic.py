import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from service.engine import synthetic
from service.engine.data import mvtec_records
from service.engine.synthetic import DEFECTS, make_synthetic_dataset


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


@pytest.mark.parametrize("kind", ["texture", "object"])
def test_layout_counts_and_exact_masks(tmp_path: Path, kind: str) -> None:
    root = make_synthetic_dataset(tmp_path, kind=kind, n_train=5, n_test_good=3, n_test_defect=2, size=64, seed=1)
    assert len(list((root / "train" / "good").glob("*.png"))) == 5
    assert len(list((root / "test" / "good").glob("*.png"))) == 3
    for defect in DEFECTS:
        images = sorted((root / "test" / defect).glob("*.png"))
        masks = sorted((root / "ground_truth" / defect).glob("*_mask.png"))
        assert [m.name for m in masks] == [f"{i.stem}_mask.png" for i in images] and len(images) == 2
        for mask_path in masks:
            mask = _pixels(mask_path)
            assert mask.shape == (64, 64) and set(np.unique(mask)) == {0, 255}
    records = mvtec_records(root, "test")
    assert sum(r.label for r in records) == 6 and all(r.mask is not None for r in records if r.label)


def test_defects_are_visible_inside_their_masks(tmp_path: Path) -> None:
    root = make_synthetic_dataset(tmp_path, kind="object", n_train=0, n_test_good=0, n_test_defect=2, size=64)
    for defect in DEFECTS:
        for image_path in sorted((root / "test" / defect).glob("*.png")):
            pixels = _pixels(image_path).astype(np.int16)
            mask = _pixels(root / "ground_truth" / defect / f"{image_path.stem}_mask.png") > 0
            assert mask.sum() >= 4
            assert np.abs(pixels[mask] - np.median(pixels[~mask], axis=0)).mean() > 10


@pytest.mark.parametrize("kind", ["texture", "object"])
@pytest.mark.parametrize("defect", DEFECTS)
def test_defect_changes_exactly_the_masked_pixels(kind: str, defect: str) -> None:
    rng = np.random.default_rng(7)
    base, ground = synthetic._texture(rng, 64) if kind == "texture" else synthetic._washer(rng, 64)
    defective = base.copy()
    mask = synthetic._draw_defect(rng, defective, ground, defect)
    clean = synthetic._to_uint8(base, 1.1)
    changed = np.any(synthetic._exact_uint8(base, defective, mask, 1.1) != clean, axis=2)
    np.testing.assert_array_equal(changed, mask)
    assert not (mask & ~ground).any()


def test_same_arguments_give_identical_files_and_seeds_differ(tmp_path: Path) -> None:
    first = make_synthetic_dataset(tmp_path / "a", n_train=2, n_test_good=1, n_test_defect=1, size=48, seed=3)
    second = make_synthetic_dataset(tmp_path / "b", n_train=2, n_test_good=1, n_test_defect=1, size=48, seed=3)
    other = make_synthetic_dataset(tmp_path / "c", n_train=2, n_test_good=1, n_test_defect=1, size=48, seed=4)
    files = sorted(p.relative_to(first) for p in first.rglob("*.png"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.png")) and len(files) == 9
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert any((first / f).read_bytes() != (other / f).read_bytes() for f in files)


@pytest.mark.parametrize("kind", ["texture", "object"])
def test_images_vary_and_mean_brightness_does_not_separate_defects(tmp_path: Path, kind: str) -> None:
    root = make_synthetic_dataset(tmp_path, kind=kind, n_train=0, n_test_good=8, n_test_defect=6, size=64, seed=2)
    good = [_pixels(p).mean() for p in sorted((root / "test" / "good").glob("*.png"))]
    defective = [_pixels(p).mean() for d in DEFECTS for p in sorted((root / "test" / d).glob("*.png"))]
    assert np.std(good) > 1.0
    assert min(good) < max(defective) and min(defective) < max(good)


def test_default_dataset_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    make_synthetic_dataset(tmp_path)
    assert time.perf_counter() - start < 5.0  # < 1 s on an idle core; slack for shared CI machines


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        make_synthetic_dataset(tmp_path, kind="fabric")
    with pytest.raises(ValueError, match="size"):
        make_synthetic_dataset(tmp_path, size=16)

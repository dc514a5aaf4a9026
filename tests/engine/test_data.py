import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from service.engine.data import (
    AnomalyDataModule,
    AnomalyDataset,
    ImageRecord,
    folder_records,
    load_mask,
    load_rgb,
    mvtec_records,
)
from tests.helpers.data import image_array, jpeg_bytes, mask_png_bytes, png_bytes, synthetic_dataset


def _encoded(image: Image.Image, image_format: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def test_load_rgb_converts_every_mode_to_rgb(tmp_path: Path) -> None:
    rgb = image_array((40, 30), seed=1)
    rgba = np.dstack([rgb, np.full((30, 40), 7, dtype=np.uint8)])
    gray16 = (np.arange(30 * 40, dtype=np.uint16).reshape(30, 40) * 50).astype(np.uint16)
    sources = {
        "rgb": png_bytes((40, 30), seed=1),
        "rgba": _encoded(Image.fromarray(rgba, mode="RGBA")),
        "gray": png_bytes((40, 30), mode="L"),
        "gray16": _encoded(Image.fromarray(gray16)),
        "palette": _encoded(Image.fromarray(rgb).convert("P")),
        "jpeg": jpeg_bytes((40, 30)),
    }
    path = tmp_path / "on_disk.png"
    path.write_bytes(sources["rgb"])
    for name, source in [*sources.items(), ("path", path)]:
        image = load_rgb(source)
        assert (image.mode, image.size) == ("RGB", (40, 30)), name
    np.testing.assert_array_equal(np.asarray(load_rgb(sources["rgba"])), rgb)
    np.testing.assert_array_equal(np.asarray(load_rgb(path)), rgb)
    gray16_as_rgb = np.asarray(load_rgb(sources["gray16"]))
    np.testing.assert_array_equal(gray16_as_rgb[..., 0], np.rint(gray16 / 257.0).astype(np.uint8))
    assert gray16_as_rgb.max() > 200  # scaled, not clipped at 255


def test_load_rgb_applies_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    jpeg = _encoded(Image.fromarray(image_array((40, 30))), "JPEG", exif=exif)
    assert load_rgb(jpeg).size == (30, 40)


def test_load_mask_treats_any_nonzero_channel_as_defect() -> None:
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:9] = True
    np.testing.assert_array_equal(load_mask(mask_png_bytes(mask)), mask)
    colour = np.zeros((10, 12, 3), dtype=np.uint8)
    colour[mask, 1] = 1
    np.testing.assert_array_equal(load_mask(_encoded(Image.fromarray(colour))), mask)


def test_dataset_items_have_the_documented_shapes_and_ranges() -> None:
    mask = np.zeros((60, 80), dtype=bool)
    mask[10:30, 20:50] = True
    records = [
        ImageRecord(image=png_bytes((80, 60)), label=1, mask=mask_png_bytes(mask), name="a"),
        ImageRecord(image=jpeg_bytes((33, 47), seed=2), label=0, name="b"),
    ]
    dataset = AnomalyDataset(records, image_size=32)
    item = dataset[0]
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert 0.0 <= item["image"].min() and item["image"].max() <= 1.0
    assert item["label"].dtype == torch.int64 and item["label"].item() == 1 and item["index"] == 0
    assert item["mask"].shape == (32, 32) and set(item["mask"].unique().tolist()) == {0.0, 1.0}
    assert item["mask"].mean().item() == pytest.approx(mask.mean(), abs=0.02)
    assert dataset[1]["mask"].sum() == 0 and dataset[1]["label"].item() == 0
    assert AnomalyDataset(records, image_size=32, train=True)[0]["mask"].sum() == 0


def test_dataset_resizes_bilinearly_with_antialiasing() -> None:
    stripes = np.zeros((64, 64, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    image = AnomalyDataset([ImageRecord(image=_encoded(Image.fromarray(stripes)), label=0)], image_size=16)[0]["image"]
    interior = image[:, :, 1:-1]  # edge columns see a one-sided window
    assert torch.allclose(interior, torch.full_like(interior, 0.5), atol=0.01)  # aliasing gives stripes or 0/1


def test_training_image_cache_decodes_once_within_its_memory_bound(tmp_path: Path) -> None:
    paths = []
    for seed in range(3):
        paths.append(tmp_path / f"{seed}.png")
        paths[-1].write_bytes(png_bytes((50, 40), seed=seed))
    one_image_bytes = 3 * 32 * 32 * 4
    dataset = AnomalyDataset(
        [ImageRecord(image=path, label=0) for path in paths], image_size=32, train=True, cache_bytes=2 * one_image_bytes
    )
    first_reads = [dataset[index]["image"] for index in range(3)]
    for path in paths:
        path.unlink()
    assert all(torch.equal(dataset[index]["image"], first_reads[index]) for index in (0, 1))
    with pytest.raises(FileNotFoundError):
        dataset[2]


def test_mvtec_records_order_labels_and_masks(tmp_path: Path) -> None:
    root = synthetic_dataset(tmp_path, n_train=3, n_test_good=2, n_test_defect=2)
    train = mvtec_records(root, "train")
    assert [r.name for r in train] == ["good/000.png", "good/001.png", "good/002.png"]
    assert all(r.label == 0 and r.mask is None for r in train)
    test = mvtec_records(root, "test")
    assert [r.name for r in test][:3] == ["good/000.png", "good/001.png", "crack/000.png"]
    assert [r.label for r in test] == [0, 0] + [1] * 6
    assert test[2].mask == root / "ground_truth" / "crack" / "000_mask.png"
    (root / "ground_truth" / "spot" / "001_mask.png").unlink()
    assert [r.mask is None for r in mvtec_records(root, "test") if r.name.startswith("spot")] == [False, True]
    with pytest.raises(ValueError, match="split"):
        mvtec_records(root, "validation")
    with pytest.raises(FileNotFoundError):
        mvtec_records(tmp_path / "missing", "train")


def test_folder_records_matches_masks_by_stem(tmp_path: Path) -> None:
    for folder in ("ok", "bad", "masks"):
        (tmp_path / folder).mkdir()
    (tmp_path / "ok" / "b.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "ok" / "a.png").write_bytes(png_bytes())
    (tmp_path / "ok" / "notes.txt").write_text("ignored")
    (tmp_path / "bad" / "x.png").write_bytes(png_bytes())
    (tmp_path / "bad" / "y.png").write_bytes(png_bytes())
    (tmp_path / "masks" / "x_mask.png").write_bytes(mask_png_bytes(np.ones((4, 4))))
    records = folder_records(tmp_path / "ok", tmp_path / "bad", tmp_path / "masks")
    assert [(r.name, r.label) for r in records] == [("a.png", 0), ("b.jpg", 0), ("x.png", 1), ("y.png", 1)]
    assert records[2].mask == tmp_path / "masks" / "x_mask.png" and records[3].mask is None
    assert len(folder_records(tmp_path / "ok")) == 2


def test_image_record_rejects_other_labels() -> None:
    with pytest.raises(ValueError, match="label"):
        ImageRecord(image=b"", label=2)


def test_datamodule_shuffles_reproducibly_and_keeps_every_sample(tmp_path: Path) -> None:
    root = synthetic_dataset(tmp_path, n_train=10, n_test_good=2, n_test_defect=1)
    train, test = mvtec_records(root, "train"), mvtec_records(root, "test")

    def epoch_order(seed: int) -> list[int]:
        module = AnomalyDataModule(train, test, image_size=32, batch_size=4, seed=seed)
        return [i for batch in module.train_dataloader() for i in batch["index"].tolist()]

    assert epoch_order(0) == epoch_order(0) and sorted(epoch_order(0)) == list(range(10))
    assert epoch_order(0) != epoch_order(1) and epoch_order(0) != list(range(10))
    module = AnomalyDataModule(train, test, image_size=32, batch_size=4)
    val_batches = list(module.val_dataloader())
    assert [b["image"].shape[0] for b in val_batches] == [4, 1]
    assert torch.cat([b["index"] for b in val_batches]).tolist() == list(range(5))
    assert torch.cat([b["label"] for b in module.test_dataloader()]).tolist() == [0, 0, 1, 1, 1]
    assert val_batches[1]["mask"].sum() > 0

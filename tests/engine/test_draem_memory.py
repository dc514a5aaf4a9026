"""The scratch model's normal-patch memory: what it flags, its scale, filling it in training, saving and exporting it."""

import io
from pathlib import Path

import torch

from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.models.draem import DraemHyperparameters, DraemLightning
from service.engine.models.draem.patch_memory import PatchMemory
from service.engine.synthetic import make_synthetic_dataset
from tests.engine.onnx_check import assert_matches_in_onnx_runtime
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _stripes(count: int, seed: int) -> torch.Tensor:
    """Normal images: horizontal stripes with a random phase and mild noise, standardised like the model's input."""
    generator = torch.Generator().manual_seed(seed)
    rows = torch.arange(SIZE, dtype=torch.float32)
    phases = torch.rand(count, 1, generator=generator) * 6.28
    stripes = torch.sin(rows[None, :] / 3 + phases)[:, None, :, None].expand(count, 3, SIZE, SIZE)
    return stripes + 0.05 * torch.randn(count, 3, SIZE, SIZE, generator=generator)


def _fitted_memory(images: torch.Tensor, size: int = 256) -> PatchMemory:
    memory = PatchMemory()
    memory.fit(memory.patches(images), size=size, seed=0)
    return memory


def test_memory_flags_what_no_normal_patch_looks_like() -> None:
    memory = _fitted_memory(_stripes(12, seed=0))
    unseen = _stripes(2, seed=1)
    defective = unseen.clone()
    defective[1, :, 20:36, 20:36] = 3.0
    with torch.no_grad():
        distances = memory(defective)
    assert distances.shape == (2, SIZE, SIZE)
    inside, outside = distances[1, 24:32, 24:32].mean(), distances[1, :, 48:].mean()
    assert inside > 3 * outside and inside > 3 * distances[0].max()


def test_scale_is_the_leave_one_out_quantile_so_unseen_normal_patches_sit_near_one() -> None:
    memory = _fitted_memory(_stripes(12, seed=0), size=10_000)
    assert memory.bank.shape == (12 * 7 * 7, 64)  # 64 px -> 32 px -> 7 x 7 patches
    with torch.no_grad():
        unseen = memory(_stripes(6, seed=2))
    assert 0.05 < memory.scale.item() and unseen.quantile(0.5) < 1.0 < unseen.max() * 3
    assert _fitted_memory(_stripes(12, seed=0), size=40).bank.shape == (40, 64)


def test_training_fills_the_memory_and_it_round_trips_and_exports(tmp_path: Path) -> None:
    make_synthetic_dataset(tmp_path, kind="texture", n_train=6, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(
        mvtec_records(tmp_path, "train"), mvtec_records(tmp_path, "test"), image_size=SIZE, batch_size=4
    )
    settings = DraemHyperparameters(image_size=SIZE, base_channels=8, depth=3, max_steps=2, memory_size=100)
    module = DraemLightning(settings)
    trainer = cpu_trainer(module, tmp_path)
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    model = module.model.eval()
    assert model.memory.bank.shape == (100, 64) and model.memory.scale > 0

    images = torch.rand(2, 3, SIZE, SIZE)
    without_memory = DraemLightning(settings.model_copy(update={"memory_weight": 0.0})).model.eval()
    without_memory.load_state_dict(model.state_dict())
    with torch.no_grad():
        combined, network_only = model(images), without_memory(images)
    assert (combined.anomaly_map - network_only.anomaly_map).min() > 0

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = DraemLightning(settings).model.eval()
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    with torch.no_grad():
        assert torch.equal(restored(images).anomaly_map, combined.anomaly_map)
    assert_matches_in_onnx_runtime(model, images, tmp_path / "draem.onnx", rtol=1e-5, atol=1e-5)


def test_checkpoints_from_before_the_memory_load_without_it() -> None:
    settings = DraemHyperparameters(image_size=SIZE, base_channels=8, depth=3)
    old = {k: v for k, v in DraemLightning(settings).model.state_dict().items() if not k.startswith("memory.")}
    model = DraemLightning(settings).model
    model.load_state_dict(old)
    assert not model.memory.fitted

"""EfficientAD: eval contract, map normalisation in buffers, the two training phases and their budget, losses,
procedural images, reload from a saved folder. (Fit -> export -> runtime parity: test_parity.py.)"""

from pathlib import Path

import lightning as L
import pytest
import torch
from pydantic import ValidationError

from service.engine import artifacts
from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.errors import EngineError
from service.engine.export import export_pipeline
from service.engine.models.efficient_ad import EfficientAdHyperparameters, EfficientAdLightning, EfficientAdModel
from service.engine.models.efficient_ad.loss import colour_jitter, hard_feature_loss, upper_quantile
from service.engine.models.efficient_ad.networks import map_side
from service.engine.models.efficient_ad.procedural import procedural_images
from service.engine.models.efficient_ad.torch_model import MapQuantiles
from service.engine.registry import get_spec, parse_hyperparameters
from service.engine.synthetic import make_synthetic_dataset
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _small(**overrides: object) -> EfficientAdLightning:
    values: dict[str, object] = {"image_size": SIZE, "weights": "random", "out_channels": 32, "batch_size": 4}
    return EfficientAdLightning(EfficientAdHyperparameters(**(values | overrides)))


def test_registered_and_refuses_image_sizes_the_networks_cannot_take() -> None:
    spec = get_spec("efficient_ad")
    assert spec.hyperparameters is EfficientAdHyperparameters and spec.needs_pretrained is True
    assert parse_hyperparameters("efficient_ad", {"image_size": "96"}).image_size == 96
    for bad in ("100", "32"):
        with pytest.raises(EngineError, match="multiple of 32"):
            parse_hyperparameters("efficient_ad", {"image_size": bad})
    with pytest.raises(ValidationError):
        EfficientAdHyperparameters(distillation_fraction=1.0)


@pytest.mark.parametrize("size", [64, 96, 256])
def test_map_sides_match_the_paper_at_256_and_scale_below(size: int) -> None:
    model = EfficientAdModel(size, out_channels=8).eval()
    with torch.no_grad():
        student_teacher, autoencoder_student = model.raw_maps(torch.rand(1, 3, size, size))
    assert student_teacher.shape == autoencoder_student.shape == (1, 1, map_side(size), map_side(size))
    assert map_side(256) == 56


def test_eval_forward_shapes_and_the_score_is_the_maximum_of_the_combined_map() -> None:
    model = EfficientAdModel(SIZE, out_channels=16).eval()
    images = torch.rand(3, 3, SIZE, SIZE)
    with torch.no_grad():
        output = model(images)
        student_teacher, autoencoder_student = model.raw_maps(images)
    assert output.pred_score.shape == (3,) and output.anomaly_map.shape == (3, SIZE, SIZE)
    combined = 0.5 * model.student_teacher_quantiles(student_teacher) + 0.5 * model.autoencoder_quantiles(
        autoencoder_student
    )
    torch.testing.assert_close(output.pred_score, combined.flatten(1).amax(dim=1))
    # Bilinear upsampling of the edge-padded map never exceeds the map's own maximum.
    assert (output.anomaly_map.flatten(1).amax(dim=1) <= output.pred_score + 1e-6).all()


def test_map_quantiles_send_the_low_quantile_to_0_and_the_high_one_to_a_tenth() -> None:
    quantiles = MapQuantiles()
    quantiles.low, quantiles.high = torch.tensor(2.0), torch.tensor(6.0)
    torch.testing.assert_close(quantiles(torch.tensor([2.0, 6.0, 10.0])), torch.tensor([0.0, 0.1, 0.2]))
    assert {name for name, _ in quantiles.named_buffers()} == {"low", "high"}


def test_upper_quantile_and_hard_feature_loss_keep_only_the_largest_differences() -> None:
    values = torch.arange(1000, dtype=torch.float32)
    assert upper_quantile(values, 0.9).item() == 899.0
    teacher = torch.zeros(1, 1, 10, 10)
    student = torch.full((1, 1, 10, 10), 0.1)
    student[0, 0, 0, 0] = 3.0
    # Only the one element at or above the paper's 0.999 quantile counts: 3^2.
    assert hard_feature_loss(teacher, student, 0.999).item() == pytest.approx(9.0)
    assert hard_feature_loss(teacher, student, 0.0).item() == pytest.approx(((student - teacher) ** 2).mean().item())


def test_procedural_images_and_colour_jitter_are_seeded_images_in_range() -> None:
    first = procedural_images(4, 32, torch.Generator().manual_seed(3))
    again = procedural_images(4, 32, torch.Generator().manual_seed(3))
    assert first.shape == (4, 3, 32, 32) and torch.equal(first, again)
    assert first.min() >= 0 and first.max() <= 1 and first.flatten(1).std(dim=1).min() > 0.01
    jittered = colour_jitter(first, torch.Generator().manual_seed(0))
    assert jittered.shape == first.shape and 0 <= jittered.min() and jittered.max() <= 1
    assert not torch.equal(jittered, first)


class _TeacherWatcher(L.Callback):
    """After each batch: whether the teacher was distilled yet, and a copy of its last layer."""

    def __init__(self) -> None:
        self.records: list[tuple[bool, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self.records.append((pl_module.distilled, pl_module.model.teacher.conv4.weight.detach().clone()))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[EfficientAdLightning, _TeacherWatcher, dict]:
    root = tmp_path_factory.mktemp("efficient-ad-data")
    make_synthetic_dataset(root, kind="texture", n_train=8, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(mvtec_records(root, "train"), mvtec_records(root, "test"), image_size=SIZE, batch_size=4)
    module = _small(max_steps=5, distillation_fraction=0.4)
    initial = {name: value.clone() for name, value in module.model.state_dict().items()}
    watcher = _TeacherWatcher()
    cpu_trainer(module, tmp_path_factory.mktemp("trainer"), callbacks=[watcher]).fit(module, data.train_dataloader())
    return module, watcher, initial


def test_the_teacher_is_distilled_first_then_frozen_while_the_student_and_autoencoder_learn(trained) -> None:
    module, watcher, initial = trained
    assert (module.steps, module.distillation_steps, module.student_steps) == (5, 2, 3)
    phases = [distilled for distilled, _ in watcher.records]
    assert phases == [False, False, True, True, True]
    teacher_after_distillation = watcher.records[1][1]
    assert not torch.equal(teacher_after_distillation, initial["teacher.conv4.weight"])
    assert all(torch.equal(weight, teacher_after_distillation) for _, weight in watcher.records[2:])
    state = module.model.state_dict()
    for changed in ("student.conv4.weight", "autoencoder.decoder.conv8.weight"):
        assert not torch.equal(state[changed], initial[changed]), changed


def test_training_leaves_the_teacher_statistics_and_map_quantiles_in_buffers(trained) -> None:
    module, _, initial = trained
    model = module.model
    assert not torch.equal(model.teacher_mean, initial["teacher_mean"])
    assert (model.teacher_std > 0).all() and not torch.equal(model.teacher_std, initial["teacher_std"])
    for quantiles in (model.student_teacher_quantiles, model.autoencoder_quantiles):
        assert 0 < quantiles.low < quantiles.high < 10.0
    buffers = {name for name, _ in model.named_buffers()}
    assert {"teacher_mean", "student_teacher_quantiles.low", "autoencoder_quantiles.high"} <= buffers
    assert not any(name.startswith("target") for name in model.state_dict())


def test_the_minute_budget_ends_each_phase_after_at_least_one_step(tmp_path: Path) -> None:
    make_synthetic_dataset(tmp_path, kind="texture", n_train=2, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(mvtec_records(tmp_path, "train"), mvtec_records(tmp_path, "test"), image_size=SIZE)
    module = _small(max_steps=1000, max_minutes=1e-4)
    cpu_trainer(module, tmp_path).fit(module, data.train_dataloader())
    assert (module.steps, module.student_steps) == (2, 1) and module.distilled


def test_a_saved_model_reloads_without_the_backbone_and_computes_the_same_maps(saved_model) -> None:
    saved = saved_model("efficient_ad")
    loaded = artifacts.load(saved.folder)
    images = torch.randint(0, 256, (2, 70, 90, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(export_pipeline(loaded)(images), export_pipeline(saved.trained)(images))
    assert loaded.model.student_teacher_quantiles.high == saved.trained.model.student_teacher_quantiles.high

"""STFPM: eval contract, frozen teacher, loss decreasing over a few steps, state round-trip, ONNX export."""

import io
from pathlib import Path

import torch

from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.models.stfpm import StfpmHyperparameters, StfpmLightning, StfpmModel
from service.engine.models.stfpm.loss import feature_pyramid_loss
from service.engine.registry import get_spec
from service.engine.synthetic import make_synthetic_dataset
from service.engine.types import InferenceBatch
from tests.engine.onnx_check import assert_matches_in_onnx_runtime
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _small(**overrides: object) -> StfpmLightning:
    values: dict[str, object] = {"image_size": SIZE, "weights": "random", "seed": 1} | overrides
    return StfpmLightning(StfpmHyperparameters(**values))


def test_registered_as_needing_pretrained_weights() -> None:
    spec = get_spec("stfpm")
    assert spec.needs_pretrained is True
    assert spec.hyperparameters is StfpmHyperparameters


def test_eval_forward_shapes_and_score_is_map_maximum() -> None:
    model = _small(seed=0).model.eval()
    with torch.no_grad():
        output = model(torch.rand(2, 3, SIZE, SIZE))
    assert isinstance(output, InferenceBatch)
    assert output.pred_score.shape == (2,) and output.anomaly_map.shape == (2, SIZE, SIZE)
    assert (output.anomaly_map >= 0).all() and (output.pred_score > 0).all()
    assert torch.equal(output.pred_score, output.anomaly_map.flatten(1).amax(dim=1))


def test_identical_teacher_and_student_give_zero_loss_and_map() -> None:
    module = _small(weights="random", seed=0)
    model: StfpmModel = module.model
    model.student.load_state_dict(model.teacher.state_dict())
    model.eval()
    images = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        teacher, student = model.features(images)
        assert feature_pyramid_loss(teacher, student) < 1e-6
        assert model(images).anomaly_map.max() < 1e-6


def test_only_the_student_trains_and_the_loss_decreases(tmp_path: Path) -> None:
    module = _small(optimizer="adam", learning_rate=1e-3, max_epochs=6)
    teacher_before = {name: value.clone() for name, value in module.model.teacher.state_dict().items()}
    make_synthetic_dataset(tmp_path, kind="texture", n_train=8, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(
        mvtec_records(tmp_path, "train"), mvtec_records(tmp_path, "test"), image_size=SIZE, batch_size=8
    )
    batch = next(iter(data.train_dataloader()))
    with torch.no_grad():
        initial = feature_pyramid_loss(*module.model.features(batch["image"]))
    trainer = cpu_trainer(module, tmp_path)
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    assert trainer.current_epoch == 6
    module.model.eval()
    with torch.no_grad():
        final = feature_pyramid_loss(*module.model.features(batch["image"]))
    assert final < 0.8 * initial
    assert all(torch.equal(teacher_before[name], value) for name, value in module.model.teacher.state_dict().items())


def test_state_dict_round_trip_restores_the_student() -> None:
    trained = _small(seed=1).model.eval()
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    restored = _small(seed=2).model.eval()
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    images = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(trained(images).anomaly_map, restored(images).anomaly_map)


def test_exports_to_onnx_and_matches_in_onnx_runtime(tmp_path: Path) -> None:
    model = _small().model.eval()
    assert_matches_in_onnx_runtime(model, torch.rand(2, 3, SIZE, SIZE), tmp_path / "stfpm.onnx", rtol=1e-4, atol=1e-6)

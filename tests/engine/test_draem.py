"""The from-scratch model: eval contract, training on synthetic defects, state round-trip, ONNX export."""

import io
from pathlib import Path

import lightning as L
import torch

from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.models.draem import DraemHyperparameters, DraemLightning, DraemModel
from service.engine.registry import get_model, get_spec
from service.engine.synthetic import make_synthetic_dataset
from service.engine.types import InferenceBatch
from tests.engine.onnx_check import assert_matches_in_onnx_runtime
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _small(**overrides: object) -> DraemLightning:
    values: dict[str, object] = {"image_size": SIZE, "base_channels": 8, "depth": 3, "warmup_steps": 1} | overrides
    return DraemLightning(DraemHyperparameters(**values))


def test_registered_without_pretrained_weights() -> None:
    spec = get_spec("draem")
    assert spec.needs_pretrained is False
    module = get_model("draem", image_size=SIZE, base_channels=8, depth=2)
    assert isinstance(module.model, DraemModel)


def test_eval_forward_shapes_and_ranges() -> None:
    model = _small().model.eval()
    with torch.no_grad():
        output = model(torch.rand(3, 3, SIZE, SIZE))
    assert isinstance(output, InferenceBatch)
    assert output.pred_score.shape == (3,) and output.anomaly_map.shape == (3, SIZE, SIZE)
    assert output.anomaly_map.min() >= 0 and output.anomaly_map.max() <= 1
    top = output.anomaly_map.flatten(1).amax(dim=1)
    assert (output.pred_score <= top + 1e-6).all()


def test_same_seed_same_initial_weights() -> None:
    first, second = _small(seed=4).model.state_dict(), _small(seed=4).model.state_dict()
    assert all(torch.equal(first[name], second[name]) for name in first)
    other = _small(seed=5).model.state_dict()
    assert not all(torch.equal(first[name], other[name]) for name in first)


def _datamodule(root: Path) -> AnomalyDataModule:
    make_synthetic_dataset(root, kind="texture", n_train=8, n_test_good=1, n_test_defect=1, size=SIZE)
    return AnomalyDataModule(
        mvtec_records(root, "train"), mvtec_records(root, "test"), image_size=SIZE, batch_size=4, seed=0
    )


def test_training_steps_reduce_the_loss_and_respect_the_step_budget(tmp_path: Path) -> None:
    module = _small(max_steps=16, learning_rate=3e-3, anomaly_probability=1.0, min_blend=1.0)
    losses: list[float] = []

    class Recorder(L.Callback):
        def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
            losses.append(float(trainer.callback_metrics["train_loss"]))

    trainer = cpu_trainer(module, tmp_path, [Recorder()])
    trainer.fit(module, train_dataloaders=_datamodule(tmp_path / "data").train_dataloader())
    assert trainer.global_step == 16
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4


def test_state_dict_round_trip() -> None:
    trained = _small(seed=1).model
    trained.network.head.bias.data.fill_(0.3)
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    restored = _small(seed=2).model
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    images = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        expected, actual = trained.eval()(images), restored.eval()(images)
    assert torch.equal(expected.anomaly_map, actual.anomaly_map)


def test_exports_to_onnx_and_matches_in_onnx_runtime(tmp_path: Path) -> None:
    model = _small().model.eval()
    assert_matches_in_onnx_runtime(model, torch.rand(2, 3, SIZE, SIZE), tmp_path / "draem.onnx", rtol=1e-5, atol=1e-5)


def test_input_standardisation_ignores_exposure() -> None:
    model = _small().model
    images = torch.rand(2, 3, SIZE, SIZE) * 0.5 + 0.2
    normalised, brighter = model.normalise(images), model.normalise(images * 1.3 + 0.05)
    assert normalised.shape == (2, 3, SIZE, SIZE)
    assert (normalised - brighter).abs().max() < 0.1
    assert normalised.mean().abs() < 1e-3 and (normalised.std() - 1).abs() < 0.2

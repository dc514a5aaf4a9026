"""Reverse Distillation: the student mirrors the teacher's shapes, the eval contract, training moves only the
bottleneck and decoder and lowers the loss, input sizes the bottleneck cannot take are refused."""

from pathlib import Path

import pytest
import torch

from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.errors import EngineError
from service.engine.models.reverse_distillation import ReverseDistillationHyperparameters, ReverseDistillationLightning
from service.engine.models.reverse_distillation.loss import reverse_distillation_loss
from service.engine.models.reverse_distillation.torch_model import cosine_distance
from service.engine.registry import get_spec, parse_hyperparameters
from service.engine.synthetic import make_synthetic_dataset
from service.engine.types import InferenceBatch
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _small(**overrides: object) -> ReverseDistillationLightning:
    values: dict[str, object] = {"image_size": SIZE, "weights": "random"} | overrides
    return ReverseDistillationLightning(ReverseDistillationHyperparameters(**values))


def test_registered_as_needing_pretrained_weights() -> None:
    spec = get_spec("reverse_distillation")
    assert spec.needs_pretrained is True and spec.hyperparameters is ReverseDistillationHyperparameters


@pytest.mark.parametrize("image_size", [48, 100, 250])
def test_sizes_the_bottleneck_cannot_take_are_refused(image_size: int) -> None:
    with pytest.raises(EngineError, match="multiple of 32"):
        parse_hyperparameters("reverse_distillation", {"image_size": image_size})


def test_student_features_mirror_the_teachers() -> None:
    model = _small().model.eval()
    with torch.no_grad():
        teacher, student = model.features(torch.rand(2, 3, SIZE, SIZE))
    assert [t.shape for t in teacher] == [s.shape for s in student]
    assert [t.shape[1] for t in teacher] == [64, 128, 256]


def test_cosine_distance_is_zero_for_aligned_features_and_two_for_opposite() -> None:
    features = torch.randn(2, 8, 4, 4)
    assert torch.allclose(cosine_distance(features, 3 * features), torch.zeros(2, 1, 4, 4), atol=1e-6)
    assert torch.allclose(cosine_distance(features, -features), torch.full((2, 1, 4, 4), 2.0), atol=1e-6)


def test_eval_forward_shapes_and_score_is_map_maximum() -> None:
    model = _small().model.eval()
    with torch.no_grad():
        output = model(torch.rand(2, 3, SIZE, SIZE))
    assert isinstance(output, InferenceBatch)
    assert output.pred_score.shape == (2,) and output.anomaly_map.shape == (2, SIZE, SIZE)
    assert (output.anomaly_map >= 0).all()
    assert torch.equal(output.pred_score, output.anomaly_map.flatten(1).amax(dim=1))


def test_only_the_student_trains_and_the_loss_decreases(tmp_path: Path) -> None:
    module = _small(max_epochs=3)
    teacher_before = {name: value.clone() for name, value in module.model.teacher.state_dict().items()}
    make_synthetic_dataset(tmp_path, kind="texture", n_train=8, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(
        mvtec_records(tmp_path, "train"), mvtec_records(tmp_path, "test"), image_size=SIZE, batch_size=8
    )
    batch = next(iter(data.train_dataloader()))
    with torch.no_grad():
        initial = reverse_distillation_loss(*module.model.features(batch["image"]))
    trainer = cpu_trainer(module, tmp_path)
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    assert trainer.current_epoch == 3
    with torch.no_grad():
        final = reverse_distillation_loss(*module.model.features(batch["image"]))
    assert final < 0.8 * initial
    after = module.model.teacher.state_dict()
    assert all(torch.equal(teacher_before[name], value) for name, value in after.items())

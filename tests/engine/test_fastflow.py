"""FastFlow: the coupling flow's log-determinant is exact, the eval contract, training moves only the flows and lowers
the loss, state round-trip."""

import io
from pathlib import Path

import torch

from service.engine.data import AnomalyDataModule, mvtec_records
from service.engine.models.fastflow import FastflowHyperparameters, FastflowLightning
from service.engine.models.fastflow.flow import Flow2d
from service.engine.models.fastflow.torch_model import negative_log_likelihood
from service.engine.registry import get_spec
from service.engine.synthetic import make_synthetic_dataset
from service.engine.types import InferenceBatch
from tests.engine.trainers import cpu_trainer

SIZE = 64


def _small(**overrides: object) -> FastflowLightning:
    values: dict[str, object] = {"image_size": SIZE, "weights": "random", "flow_steps": 2} | overrides
    return FastflowLightning(FastflowHyperparameters(**values))


def test_registered_as_needing_pretrained_weights() -> None:
    spec = get_spec("fastflow")
    assert spec.needs_pretrained is True and spec.hyperparameters is FastflowHyperparameters


def test_flow_log_determinant_equals_the_jacobians() -> None:
    flow = Flow2d(5, 3, hidden_ratio=1.0, clamp=2.0, conv3x3_only=False, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for parameter in flow.parameters():
            parameter.normal_(0, 0.5)  # far from the identity the flow starts at
    x = torch.randn(1, 5, 3, 3, dtype=torch.float64)
    flow = flow.double()
    _, log_det = flow(x)
    jacobian = torch.autograd.functional.jacobian(lambda v: flow(v.view(1, 5, 3, 3))[0].flatten(), x.flatten())
    assert torch.allclose(log_det[0], torch.linalg.slogdet(jacobian).logabsdet, atol=1e-9)


def test_eval_forward_shapes_and_score_is_map_maximum() -> None:
    model = _small().model.eval()
    with torch.no_grad():
        output = model(torch.rand(2, 3, SIZE, SIZE))
    assert isinstance(output, InferenceBatch)
    assert output.pred_score.shape == (2,) and output.anomaly_map.shape == (2, SIZE, SIZE)
    assert ((output.anomaly_map >= 0) & (output.anomaly_map <= 1)).all()
    assert torch.equal(output.pred_score, output.anomaly_map.flatten(1).amax(dim=1))


def test_only_the_flows_train_and_the_likelihood_rises(tmp_path: Path) -> None:
    module = _small(max_epochs=3)
    backbone_before = {name: value.clone() for name, value in module.model.feature_extractor.state_dict().items()}
    make_synthetic_dataset(tmp_path, kind="texture", n_train=8, n_test_good=1, n_test_defect=1, size=SIZE)
    data = AnomalyDataModule(
        mvtec_records(tmp_path, "train"), mvtec_records(tmp_path, "test"), image_size=SIZE, batch_size=8
    )
    batch = next(iter(data.train_dataloader()))
    with torch.no_grad():
        initial = negative_log_likelihood(*module.model.latents(batch["image"]))
    trainer = cpu_trainer(module, tmp_path)
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    assert trainer.current_epoch == 3
    with torch.no_grad():
        final = negative_log_likelihood(*module.model.latents(batch["image"]))
    assert final < initial - 0.05 * abs(initial)
    after = module.model.feature_extractor.state_dict()
    assert all(torch.equal(backbone_before[name], value) for name, value in after.items())


def test_state_dict_round_trip_restores_the_flows() -> None:
    trained = _small(seed=1).model.eval()
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    restored = _small(seed=2).model.eval()
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    images = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(trained(images).anomaly_map, restored(images).anomaly_map)

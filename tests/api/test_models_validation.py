"""CreateModel's refusals (dataset rules, extension fields) and lookups of missing models; nothing trains here."""

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.db.engine import transaction
from service.domain.projects import create_project
from service.engine.registry import list_models
from tests.helpers.live_server import LiveServer
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project


def refusal(call: Any, **arguments: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**arguments)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_project_without_train_dataset(server: LiveServer, lv: Any, project_name: str) -> None:
    with transaction(server.context.engine) as session:
        create_project(session, name=project_name)
    code, message = refusal(lv.create_model, ProjectName=project_name, OutputConfig=OUTPUT)
    assert code == "ValidationException" and "no train dataset" in message


def test_too_few_images_names_every_shortfall(server: LiveServer, lv: Any, project_name: str, tmp_path: Path) -> None:
    seed_project(server.context, project_name, tmp_path, train=(4, 0), test=(10, 3))
    code, message = refusal(lv.create_model, ProjectName=project_name, OutputConfig=OUTPUT)
    assert code == "ValidationException"
    assert "train dataset needs at least 10 normal images and has 4" in message
    assert "test dataset needs at least 10 anomalous images and has 3" in message
    assert "test dataset needs at least 10 normal" not in message
    assert lv.list_models(ProjectName=project_name)["Models"] == []


def test_train_only_project_needs_enough_to_split(
    server: LiveServer, lv: Any, project_name: str, tmp_path: Path
) -> None:
    seed_project(server.context, project_name, tmp_path, train=(15, 10), test=None)
    code, message = refusal(lv.create_model, ProjectName=project_name, OutputConfig=OUTPUT)
    assert code == "ValidationException"
    assert "without a test dataset, the train dataset needs at least 20 normal images and has 15" in message
    assert "anomalous" not in message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Algorithm": "no-such-model"}, "Unknown Algorithm 'no-such-model'"),
        ({"Algorithm": "patchcore", "Hyperparameters": {"coreset_ratio": "2"}}, "Invalid Hyperparameters"),
        ({"Algorithm": "patchcore", "Hyperparameters": {"unknown_knob": "1"}}, "unknown_knob"),
        ({"Algorithm": "patchcore", "BackboneWeights": "/no/such/file.pth"}, "BackboneWeights"),
        ({"Algorithm": "draem", "TileSize": "8"}, "tile_size"),
        ({"Algorithm": "draem", "TileSize": "big"}, "TileSize"),
        ({"Algorithm": "draem", "Hyperparameters": {"tile_overlap": "1.5"}}, "tile_overlap"),
        ({"Algorithm": "fastflow", "BackboneWeights": "random", "Hyperparameters": {"flow_steps": "0"}}, "flow_steps"),
        ({"Algorithm": "reverse_distillation", "BackboneWeights": "random", "ImageSize": 100}, "multiple of 32"),
        ({"Algorithm": "reverse_distillation", "Hyperparameters": {"layers": "layer2"}}, "layers"),
        ({"Algorithm": "efficient_ad", "BackboneWeights": "random", "ImageSize": 100}, "multiple of 32"),
    ],
)
def test_extension_fields_are_checked(lv: Any, fields: dict[str, Any], expected: str) -> None:
    code, message = refusal(lv.create_model, ProjectName="any-project", OutputConfig=OUTPUT, **fields)
    assert code == "ValidationException" and expected in message


@pytest.mark.parametrize("algorithm", [spec.name for spec in list_models() if spec.needs_pretrained])
def test_pretrained_algorithms_are_refused_without_imagenet_weights(lv: Any, algorithm: str) -> None:
    code, message = refusal(
        lv.create_model, ProjectName="any-project", OutputConfig=OUTPUT, Algorithm=algorithm, BackboneWeights="imagenet"
    )
    assert code == "ValidationException"
    assert f"Algorithm {algorithm} needs ImageNet weights" in message and "BackboneWeights=openlv" in message


def test_reverse_distillation_has_no_openlv_fallback(lv: Any) -> None:
    """Its decoder mirrors a full-width ResNet: without ImageNet weights it is refused, named or not."""
    code, message = refusal(
        lv.create_model, ProjectName="any-project", OutputConfig=OUTPUT, Algorithm="reverse_distillation"
    )
    assert code == "ValidationException" and "needs ImageNet weights" in message
    code, message = refusal(
        lv.create_model,
        ProjectName="any-project",
        OutputConfig=OUTPUT,
        Algorithm="reverse_distillation",
        BackboneWeights="openlv",
    )
    assert code == "ValidationException" and "openlv" in message


def test_missing_models_and_versions(server: LiveServer, lv: Any, project_name: str) -> None:
    with transaction(server.context.engine) as session:
        create_project(session, name=project_name)
    code, _ = refusal(lv.describe_model, ProjectName=project_name, ModelVersion="1")
    assert code == "ResourceNotFoundException"
    code, _ = refusal(lv.delete_model, ProjectName=project_name, ModelVersion="3")
    assert code == "ResourceNotFoundException"
    code, _ = refusal(lv.describe_training_job, ProjectName=project_name, ModelVersion="1")
    assert code == "ResourceNotFoundException"
    code, _ = refusal(lv.update_model_threshold, ProjectName=project_name, ModelVersion="1", Policy="F1_OPTIMAL")
    assert code == "ResourceNotFoundException"
    code, _ = refusal(lv.create_model, ProjectName="no-such-project", OutputConfig=OUTPUT, **FAST_TRAINING)
    assert code == "ResourceNotFoundException"

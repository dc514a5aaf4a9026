"""The README's offline recipe next to `make serve`'s defaults: `lv weights import`, then PatchCore through the API.

No `LV_*` variable is set, as under `make serve`: the CLI, the API's "are ImageNet weights here?" check and the training
worker must all use the one folder `Settings` names (`lv-home/weights` under the working directory).
"""

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli.main import cli
from service.engine.backbones import IMAGENET_CHECKPOINTS, CheckpointFile, build_backbone
from service.jobs.pool import worker_environment
from service.jobs.worker import SETTINGS_VARIABLE
from service.settings import Settings
from tests.api.test_models_training import wait_for_status
from tests.helpers.live_server import run_live_server
from tests.jobs.seed import OUTPUT, seed_project

CHECKPOINT_HOOK = Path(__file__).parents[1] / "helpers" / "worker_checkpoints"


def _make_checkpoint(folder: Path) -> Path:
    """A resnet18 state dict named like a torchvision download: `resnet18-<first 8 hex of its SHA-256>.pth`."""
    folder.mkdir(parents=True)
    staged = folder / "resnet18.pth"
    torch.save(build_backbone("resnet18", "random", seed=5).state_dict(), staged)
    named = folder / f"resnet18-{hashlib.sha256(staged.read_bytes()).hexdigest()[:8]}.pth"
    staged.rename(named)
    return named


def test_imported_weights_train_patchcore_under_make_serve_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in [name for name in os.environ if name.startswith("LV_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.chdir(tmp_path)
    checkpoint = _make_checkpoint(tmp_path / "download")
    monkeypatch.setitem(IMAGENET_CHECKPOINTS, "resnet18", CheckpointFile(checkpoint.name))
    monkeypatch.setenv("OPENLV_TEST_CHECKPOINTS", json.dumps({"resnet18": checkpoint.name}))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(CHECKPOINT_HOOK), os.environ.get("PYTHONPATH")]))
    )

    imported = CliRunner().invoke(cli, ["weights", "import", str(checkpoint), "--json"], catch_exceptions=False)

    assert imported.exit_code == 0, imported.output
    assert Path(json.loads(imported.stdout)["path"]) == tmp_path / "lv-home" / "weights" / checkpoint.name
    with run_live_server(Settings()) as server:
        seed_project(server.context, "offline", tmp_path / "seed", train=(10, 0), test=(10, 10))
        lv = server.boto3_client()
        created = lv.create_model(
            ProjectName="offline", OutputConfig=OUTPUT, ImageSize=64, Hyperparameters={"coreset_ratio": "0.5"}
        )["ModelMetadata"]
        assert created["Algorithm"] == "patchcore", "the API did not see the imported weights"
        description = wait_for_status(lv, "offline", created["ModelVersion"])
    assert description["Status"] == "TRAINED", description["StatusMessage"]


def test_worker_environment_keeps_lv_variables_and_passes_the_settings_whole(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", weights_dir=tmp_path / "weights", weights_base_url="http://mirror/")

    env = worker_environment(settings, {"LV_WEIGHTS_DIR": "/elsewhere", "LV_UNKNOWN": "kept", "PATH": "/bin"})

    assert (env["LV_UNKNOWN"], env["LV_WEIGHTS_DIR"], env["PATH"]) == ("kept", "/elsewhere", "/bin")
    assert Settings.model_validate_json(env[SETTINGS_VARIABLE]) == settings

"""The hosting cache follows the models: DeleteModel evicts a model's local copy, a start drops copies of the gone."""

from pathlib import Path
from typing import Any

from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Model
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.hosting.model_cache import ArtifactCache
from service.settings import Settings
from tests.api.test_hosting import TinyModel
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import add_trained_model, host_trained_model, tiny_model, wait_for_status

__all__ = ["tiny_model"]


def _cached_copy(server: LiveServer, project_name: str) -> Path:
    with transaction(server.context.engine) as session:
        models = session.exec(select(Model)).all()
        prefix = next(model.artifacts_prefix for model in models if f"/{project_name}/" in model.artifacts_prefix)
    cache = ArtifactCache(server.context.store, server.settings.resolved_home / "hosting-cache")
    return cache.local_dir(prefix + ARTIFACTS_FOLDER)


def test_delete_model_evicts_its_cached_artefacts(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel
) -> None:
    lv.create_project(ProjectName=project_name)
    host_trained_model(server, lv, project_name, tiny_model[0])
    copy = _cached_copy(server, project_name)
    assert (copy / "model.onnx").is_file()
    lv.stop_model(ProjectName=project_name, ModelVersion="1")
    wait_for_status(lv, project_name, "1", "TRAINED")

    lv.delete_model(ProjectName=project_name, ModelVersion="1")

    assert not copy.exists()


def test_start_up_drops_cached_copies_of_models_that_no_longer_exist(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    cache_root = settings.resolved_home / "hosting-cache"
    stale = [cache_root / "0123456789abcdef01234567", cache_root / ".fetch-interrupted"]
    for folder in stale:
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"left behind")

    with run_live_server(settings) as server:
        server.boto3_client().create_project(ProjectName="kept")
        add_trained_model(server, "kept", tmp_path)
        kept = _cached_copy(server, "kept")
        kept.mkdir(parents=True)
        assert not any(folder.exists() for folder in stale)
    with run_live_server(settings):
        assert kept.is_dir(), "the copy of an existing model survives a restart"

"""A tiny real model for hosting tests, and a way to hand it to a live server as a TRAINED model version.

PaDiM at 64 px with random backbone weights fits in seconds; images it was fitted on score far below its threshold
and the same images with a large painted patch far above, so verdicts are stable without a long training run.
"""

import io
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Model, Project
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.engine import artifacts
from service.engine.data import ImageRecord, mvtec_records
from service.engine.training import fit
from tests.helpers.data import synthetic_dataset
from tests.helpers.live_server import LiveServer

MODEL_NAME = "padim"
IMAGE_SIZE = 64


def train_tiny_model(root: Path, *, seed: int = 0) -> tuple[Path, list[ImageRecord]]:
    """(saved model folder, the normal images it was fitted on)."""
    data = synthetic_dataset(root / "data", n_train=8, n_test_good=4, n_test_defect=2, size=IMAGE_SIZE, seed=seed)
    train = mvtec_records(data, "train")
    trained = fit(
        MODEL_NAME,
        train,
        mvtec_records(data, "test"),
        hyperparameters={"image_size": IMAGE_SIZE},
        weights="random",
        accelerator="cpu",
    )
    return artifacts.save(trained, root / "model"), train


def normal_pixels(record: ImageRecord) -> np.ndarray:
    assert isinstance(record.image, Path)
    return np.asarray(Image.open(record.image).convert("RGB"))


def defective_pixels(record: ImageRecord) -> np.ndarray:
    """The normal image with a saturated magenta square over a sixteenth of it."""
    pixels = normal_pixels(record).copy()
    height, width = pixels.shape[:2]
    pixels[height // 4 : height // 2, width // 4 : width // 2] = [255, 0, 255]
    return pixels


def encode(pixels: np.ndarray, image_format: str = "PNG", size: tuple[int, int] | None = None) -> bytes:
    image = Image.fromarray(pixels)
    if size is not None:
        image = image.resize(size)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def add_trained_model(server: LiveServer, project_name: str, folder: Path, *, version: int = 1) -> None:
    """Upload the saved model's files where training puts them and record a TRAINED model version for it."""
    prefix = f"models/{project_name}/{uuid.uuid4().hex}/"
    store = server.context.store
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            store.put(prefix + ARTIFACTS_FOLDER + path.relative_to(folder).as_posix(), path.read_bytes())
    with transaction(server.context.engine) as session:
        project = session.exec(select(Project).where(Project.name == project_name)).one()
        assert project.id is not None
        session.add(
            Model(
                project_id=project.id,
                version=version,
                status="TRAINED",
                algorithm=MODEL_NAME,
                image_size=IMAGE_SIZE,
                artifacts_prefix=prefix,
            )
        )


def wait_for_status(lv: Any, project: str, version: str, wanted: str, timeout: float = 60.0) -> dict[str, Any]:
    """The model's description once its status is `wanted`; fails with the last description after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        description = lv.describe_model(ProjectName=project, ModelVersion=version)["ModelDescription"]
        if description["Status"] == wanted or time.monotonic() > deadline:
            assert description["Status"] == wanted, description
            return description
        time.sleep(0.05)


def host_trained_model(server: LiveServer, lv: Any, project_name: str, folder: Path) -> None:
    """Register the saved model in `folder` as version 1 of the existing project and host it on one unit."""
    add_trained_model(server, project_name, folder)
    lv.start_model(ProjectName=project_name, ModelVersion="1", MinInferenceUnits=1)
    wait_for_status(lv, project_name, "1", "HOSTED")


_TRAINED: dict[str, tuple[Path, list[ImageRecord]]] = {}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ImageRecord]]:
    """The tiny model, trained once per test session whichever modules import this fixture."""
    if "padim" not in _TRAINED:
        _TRAINED["padim"] = train_tiny_model(tmp_path_factory.mktemp("tiny-model"))
    return _TRAINED["padim"]


@pytest.fixture(scope="session")
def tiny_candidate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ImageRecord]]:
    """Another tiny model, fitted on other synthetic images (seed 1): it scores the same images differently."""
    if "candidate" not in _TRAINED:
        _TRAINED["candidate"] = train_tiny_model(tmp_path_factory.mktemp("tiny-candidate"), seed=1)
    return _TRAINED["candidate"]

"""A dataset update whose process died: its claim is released and what it wrote is removed (issue 11, finding 2)."""

import subprocess
import sys
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Dataset, Project, StoredImage
from service.domain import dataset_state, recovery
from tests.helpers.data import png_bytes
from tests.helpers.ext_api import image_parts, upload
from tests.helpers.live_server import LiveServer

SIZE = (64, 64)


def dead_owner() -> str:
    """A claim owner on this host whose process has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    host = dataset_state.OWNER.partition(":")[0]
    return f"{host}:{int(child.stdout)}:0123456789abcdef"


def claim_as(server: LiveServer, project: str, owner: str) -> None:
    """Leave the dataset as an update whose process is `owner` left it: claimed, its entries untouched."""
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        session.execute(
            update(Dataset)
            .where(col(Dataset.project_id) == project_id)
            .values(status=dataset_state.UPDATE_IN_PROGRESS, claimed_by=owner, updated_at=dataset_state.utcnow())
        )


def status(lv: Any, project: str) -> str:
    return lv.describe_dataset(ProjectName=project, DatasetType="train")["DatasetDescription"]["Status"]


def test_a_claim_of_a_dead_process_does_not_block_uploads_or_delete(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    lv.create_project(ProjectName=project_name)
    assert upload(server, project_name, "train", image_parts("a", png_bytes(SIZE, seed=1), "normal")).status_code == 200
    claim_as(server, project_name, dead_owner())
    response = upload(server, project_name, "train", image_parts("b", png_bytes(SIZE, seed=2), "normal"))
    assert response.status_code == 200, response.text
    claim_as(server, project_name, dead_owner())
    lv.delete_dataset(ProjectName=project_name, DatasetType="train")


def test_a_claim_of_a_live_process_still_conflicts(server: LiveServer, lv: Any, project_name: str) -> None:
    lv.create_project(ProjectName=project_name)
    assert upload(server, project_name, "train", image_parts("a", png_bytes(SIZE, seed=3), "normal")).status_code == 200
    claim_as(server, project_name, dataset_state.OWNER)
    response = upload(server, project_name, "train", image_parts("b", png_bytes(SIZE, seed=4), "normal"))
    assert response.status_code == 409
    dataset_state.release_abandoned_claims(server.context.engine)
    assert status(lv, project_name) == dataset_state.UPDATE_IN_PROGRESS
    claim_as(server, project_name, dead_owner())


def test_start_up_recovery_rolls_back_the_dataset_and_removes_unwritten_files(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    lv.create_project(ProjectName=project_name)
    assert upload(server, project_name, "train", image_parts("a", png_bytes(SIZE, seed=5), "normal")).status_code == 200
    claim_as(server, project_name, dead_owner())
    store = server.context.store
    store.put("images/ff/written-by-an-upload-that-never-committed.png", png_bytes(SIZE, seed=6))
    partial = store.root / "images" / "ff" / ".tmp-interrupted"
    partial.write_bytes(b"half an image")

    recovery.recover_on_start(server.context)

    description = lv.describe_dataset(ProjectName=project_name, DatasetType="train")["DatasetDescription"]
    assert description["Status"] == dataset_state.UPDATE_FAILED_ROLLBACK_COMPLETE
    assert description["ImageStats"]["Total"] == 1
    assert not store.exists("images/ff/written-by-an-upload-that-never-committed.png")
    assert not partial.exists()
    with transaction(server.context.engine) as session:
        for row in session.exec(select(StoredImage)):
            assert store.exists(row.key)

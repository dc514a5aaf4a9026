"""Shared content-addressed images: a file goes only when no entry uses it (issue 11, findings 1 and 3)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry, ObjectDeletion, Project, StoredImage
from service.domain import stored_objects
from service.domain.images import image_key, inspect_image, store_image
from tests.helpers.data import mask_png_bytes, png_bytes
from tests.helpers.ext_api import image_parts, upload
from tests.helpers.live_server import LiveServer

SIZE = (64, 64)


def square_mask() -> bytes:
    mask = np.zeros((SIZE[1], SIZE[0]), dtype=bool)
    mask[10:30, 20:40] = True
    return mask_png_bytes(mask)


def upload_all(server: LiveServer, project: str, images: list[bytes], label: str = "normal") -> Any:
    parts = [part for index, data in enumerate(images) for part in image_parts(f"i{index}", data, label)]
    return upload(server, project, "train", parts)


def dangling_entries(server: LiveServer, project: str) -> list[str]:
    """Entries of the project whose image or mask file is missing from storage."""
    with transaction(server.context.engine) as session:
        rows = session.exec(
            select(DatasetEntry.image_sha256, DatasetEntry.mask_sha256)
            .join(Dataset, Dataset.id == DatasetEntry.dataset_id)
            .join(Project, Project.id == Dataset.project_id)
            .where(Project.name == project)
        ).all()
        shas = {sha for pair in rows for sha in pair if sha is not None}
        stored = {row.sha256: row.key for row in session.exec(select(StoredImage).where(StoredImage.sha256.in_(shas)))}
    return [sha for sha in shas if sha not in stored or not server.context.store.exists(stored[sha])]


def test_upload_racing_a_delete_of_the_same_images_keeps_every_file(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    images = [png_bytes(SIZE, seed=1000 + index) for index in range(20)]
    for round_number in range(3):
        source, target = f"{project_name}-x{round_number}", f"{project_name}-y{round_number}"
        lv.create_project(ProjectName=source)
        lv.create_project(ProjectName=target)
        assert upload_all(server, source, images).status_code == 200
        with ThreadPoolExecutor(2) as pool:
            deleting = pool.submit(lv.delete_dataset, ProjectName=source, DatasetType="train")
            uploading = pool.submit(upload_all, server, target, images)
            deleting.result()
            assert uploading.result().status_code == 200, uploading.result().text
        assert dangling_entries(server, target) == []


def test_a_release_waits_for_an_upload_that_is_adding_a_reference(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    """The interleaving of finding 1, made deterministic: Y has stored the bytes but not committed its entry when
    X's dataset (the only other user of those bytes) is deleted."""
    data = png_bytes(SIZE, seed=77)
    info = inspect_image(data, settings=server.settings)
    source, target = f"{project_name}-x", f"{project_name}-y"
    lv.create_project(ProjectName=source)
    lv.create_project(ProjectName=target)
    assert upload_all(server, source, [data]).status_code == 200
    assert upload_all(server, target, [png_bytes(SIZE, seed=78)]).status_code == 200
    engine, store = server.context.engine, server.context.store
    with transaction(engine) as session:
        dataset = session.exec(
            select(Dataset).join(Project, Project.id == Dataset.project_id).where(Project.name == target)
        ).one()
        store_image(session, store, data, info)
        deleter = threading.Thread(target=lv.delete_dataset, kwargs={"ProjectName": source, "DatasetType": "train"})
        deleter.start()
        time.sleep(1.0)  # the delete runs into this transaction's hold on the image
        session.add(DatasetEntry(dataset_id=dataset.id, image_sha256=info.sha256, source_ref="s3://openlv/y.png"))
    deleter.join(timeout=60)
    assert not deleter.is_alive()
    assert store.exists(image_key(info))
    assert dangling_entries(server, target) == []


def test_a_queued_deletion_claimed_back_keeps_the_file(server: LiveServer) -> None:
    data = png_bytes(SIZE, seed=79)
    info = inspect_image(data, settings=server.settings)
    engine, store = server.context.engine, server.context.store
    with transaction(engine) as session:
        store_image(session, store, data, info)
        session.add(ObjectDeletion(key=image_key(info)))
    with transaction(engine) as session:
        store_image(session, store, data, info)  # a writer stores the same bytes: the queued deletion is withdrawn
    assert stored_objects.delete_queued(engine, store, [image_key(info)]) == 0
    assert store.exists(image_key(info))


def test_relabelling_an_anomaly_as_normal_removes_its_mask(server: LiveServer, lv: Any, project_name: str) -> None:
    lv.create_project(ProjectName=project_name)
    image, mask = png_bytes(SIZE, seed=90), square_mask()
    mask_info = inspect_image(mask, settings=server.settings, kind="mask")
    image_info = inspect_image(image, settings=server.settings)
    anomalous = image_parts("a", image, "anomaly", anomaly_class="scratch", mask=mask)
    assert upload(server, project_name, "train", anomalous).status_code == 200
    assert server.context.store.exists(image_key(mask_info))

    assert upload(server, project_name, "train", image_parts("a", image, "normal")).status_code == 200
    with transaction(server.context.engine) as session:
        assert session.get(StoredImage, mask_info.sha256) is None
    assert not server.context.store.exists(image_key(mask_info))

    lv.delete_dataset(ProjectName=project_name, DatasetType="train")
    with transaction(server.context.engine) as session:
        assert session.get(StoredImage, image_info.sha256) is None
    assert not server.context.store.exists(image_key(image_info))


def test_deleting_one_dataset_keeps_images_another_uses(server: LiveServer, lv: Any, project_name: str) -> None:
    shared = png_bytes(SIZE, seed=95)
    for suffix in ("a", "b"):
        lv.create_project(ProjectName=f"{project_name}-{suffix}")
        assert upload_all(server, f"{project_name}-{suffix}", [shared]).status_code == 200
    lv.delete_dataset(ProjectName=f"{project_name}-a", DatasetType="train")
    assert dangling_entries(server, f"{project_name}-b") == []
    with pytest.raises(ClientError):
        lv.describe_dataset(ProjectName=f"{project_name}-a", DatasetType="train")

"""CreateAccessKey, ListAccessKeys, DeleteAccessKey through boto3 against a live server, and the key store's rules."""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from service.auth.keys import KeyStore
from service.auth.roles import Role
from service.db.engine import build_engine
from service.db.models import AccessKey, utcnow
from service.errors import ConflictException, ResourceNotFoundException
from service.migrations.runner import alembic_config, upgrade_to_head
from tests.conftest import BACKENDS, make_settings
from tests.helpers.databases import database_url
from tests.helpers.live_server import LiveServer, run_live_server

NO_RETRIES = Config(retries={"total_max_attempts": 1})
OLD_COLUMNS = ("access_key_id", "encrypted_secret", "description", "created_at")  # the table at revision 0004


def error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def client_for(server: LiveServer, key: dict[str, Any]) -> Any:
    return server.boto3_client(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], config=NO_RETRIES
    )


@pytest.fixture
def created_keys(lv: Any) -> Iterator[list[str]]:
    """Ids appended here are deleted after the test (the session server is shared)."""
    ids: list[str] = []
    yield ids
    for access_key_id in ids:
        try:
            lv.delete_access_key(AccessKeyId=access_key_id)
        except ClientError as error:
            assert error_code(error) == "ResourceNotFoundException"


def create_key(lv: Any, created_keys: list[str], role: str, description: str = "") -> dict[str, Any]:
    key: dict[str, Any] = lv.create_access_key(Role=role, Description=description)["AccessKey"]
    created_keys.append(key["AccessKeyId"])
    return key


def all_keys(lv: Any) -> list[dict[str, Any]]:
    return [item for page in lv.get_paginator("list_access_keys").paginate() for item in page["AccessKeys"]]


def test_created_key_signs_requests_with_its_role(server: LiveServer, lv: Any, created_keys: list[str]) -> None:
    key = create_key(lv, created_keys, "inference", "camera on line 7")
    assert key["AccessKeyId"].startswith("LVAK") and key["SecretAccessKey"]
    assert (key["Role"], key["Description"]) == ("inference", "camera on line 7")
    camera = client_for(server, key)
    assert "Projects" in camera.list_projects()
    with pytest.raises(ClientError) as refused:
        camera.create_project(ProjectName="made-by-a-camera")
    assert error_code(refused.value) == "AccessDeniedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused.value.response["Error"]["Message"] == "Role 'inference' may not call CreateProject."
    with pytest.raises(ClientError) as describe:
        lv.describe_project(ProjectName="made-by-a-camera")
    assert error_code(describe.value) == "ResourceNotFoundException"
    assert server.context.keys.role_for(key["AccessKeyId"]) is Role.INFERENCE


def test_list_pages_through_every_key_and_never_shows_a_secret(lv: Any, created_keys: list[str]) -> None:
    made = [create_key(lv, created_keys, role, f"paging {role}") for role in ("admin", "reviewer", "inference")]
    pages = list(lv.get_paginator("list_access_keys").paginate(PaginationConfig={"PageSize": 1}))
    listed = [item for page in pages for item in page["AccessKeys"]]
    assert len(pages) == len(listed) >= 4
    ids = [item["AccessKeyId"] for item in listed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    by_id = {item["AccessKeyId"]: item for item in listed}
    for key in made:
        shown = by_id[key["AccessKeyId"]]
        assert (shown["Role"], shown["Description"]) == (key["Role"], key["Description"])
        assert "SecretAccessKey" not in shown
        assert key["SecretAccessKey"] not in repr(pages)
        assert shown["CreationTimestamp"] == key["CreationTimestamp"]


def test_bad_create_requests_are_refused(lv: Any) -> None:
    before = all_keys(lv)
    for role, description in (("owner", ""), ("reviewer", "x" * 256)):
        with pytest.raises(ClientError) as refused:
            lv.create_access_key(Role=role, Description=description)
        assert error_code(refused.value) == "ValidationException"
    assert all_keys(lv) == before


def test_deleted_key_is_refused_at_once(server: LiveServer, lv: Any, created_keys: list[str]) -> None:
    key = create_key(lv, created_keys, "reviewer")
    reviewer = client_for(server, key)
    reviewer.list_projects()  # now the key's secret and role are cached
    assert lv.delete_access_key(AccessKeyId=key["AccessKeyId"])["AccessKeyId"] == key["AccessKeyId"]
    with pytest.raises(ClientError) as refused:
        reviewer.list_projects()
    assert error_code(refused.value) == "AccessDeniedException"
    assert "unknown access key" in refused.value.response["Error"]["Message"]
    assert key["AccessKeyId"] not in {item["AccessKeyId"] for item in all_keys(lv)}
    assert server.context.keys.role_for(key["AccessKeyId"]) is None


def test_a_key_cannot_delete_itself(server: LiveServer, lv: Any, created_keys: list[str]) -> None:
    key = create_key(lv, created_keys, "admin")
    second_admin = client_for(server, key)
    with pytest.raises(ClientError) as refused:
        second_admin.delete_access_key(AccessKeyId=key["AccessKeyId"])
    assert error_code(refused.value) == "ValidationException"
    assert "cannot delete itself" in refused.value.response["Error"]["Message"]
    assert second_admin.list_access_keys()["AccessKeys"]


def test_deleting_an_unknown_key_is_not_found(lv: Any) -> None:
    with pytest.raises(ClientError) as refused:
        lv.delete_access_key(AccessKeyId="LVAKNOSUCHKEY0000000")
    assert error_code(refused.value) == "ResourceNotFoundException"


def test_non_admin_keys_cannot_manage_keys(server: LiveServer, lv: Any, created_keys: list[str]) -> None:
    reviewer = client_for(server, create_key(lv, created_keys, "reviewer"))
    for call, operation in (
        (lambda: reviewer.create_access_key(Role="admin"), "CreateAccessKey"),
        (lambda: reviewer.list_access_keys(), "ListAccessKeys"),
        (lambda: reviewer.delete_access_key(AccessKeyId=server.access_key_id), "DeleteAccessKey"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Message"] == f"Role 'reviewer' may not call {operation}."
    assert server.context.keys.role_for(server.access_key_id) is Role.ADMIN


def test_first_start_key_is_admin(server: LiveServer, lv: Any) -> None:
    first = {item["AccessKeyId"]: item for item in all_keys(lv)}[server.access_key_id]
    assert first["Role"] == "admin"


def test_the_last_admin_key_cannot_be_deleted(tmp_path: Path) -> None:
    with run_live_server(make_settings(tmp_path / "home", auth_enabled=False)) as live:
        anonymous = live.boto3_client(config=NO_RETRIES)
        with pytest.raises(ClientError) as refused:
            anonymous.delete_access_key(AccessKeyId=live.access_key_id)
        assert error_code(refused.value) == "ConflictException"
        assert "last admin key" in refused.value.response["Error"]["Message"]
        reviewer = anonymous.create_access_key(Role="reviewer")["AccessKey"]["AccessKeyId"]
        anonymous.delete_access_key(AccessKeyId=reviewer)
        assert [item["AccessKeyId"] for item in anonymous.list_access_keys()["AccessKeys"]] == [live.access_key_id]


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, tmp_path) as url:
        built = build_engine(url)
        try:
            yield built
        finally:
            built.dispose()


def delete_concurrently(store: KeyStore, *pairs: tuple[str, str]) -> list[str]:
    """Run `store.delete(target, caller=caller)` for each (target, caller) at the same moment; the outcomes."""
    barrier = threading.Barrier(len(pairs))
    outcomes: list[str] = []

    def delete(target: str, caller: str) -> None:
        barrier.wait()
        try:
            store.delete(target, caller=caller)
            outcomes.append("deleted")
        except ConflictException:
            outcomes.append("conflict")

    threads = [threading.Thread(target=delete, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_admins_deleting_each_other_leave_one(engine: Engine, tmp_path: Path) -> None:
    upgrade_to_head(engine)
    store = KeyStore(engine, tmp_path / "master.key")
    survivor = store.create(role=Role.ADMIN).access_key_id
    for _ in range(5):
        newcomer = store.create(role=Role.ADMIN).access_key_id
        assert delete_concurrently(store, (survivor, newcomer), (newcomer, survivor)) == ["conflict", "deleted"]
        (survivor,) = [key for key in (survivor, newcomer) if store.role_for(key) is not None]
        with pytest.raises(ConflictException):
            store.delete(survivor, caller="someone-else")
    reviewer = store.create(role=Role.REVIEWER).access_key_id
    store.delete(reviewer, caller=survivor)
    with pytest.raises(ResourceNotFoundException):
        store.delete(reviewer, caller=survivor)


def test_keys_from_before_roles_become_admin(engine: Engine, tmp_path: Path) -> None:
    store = KeyStore(engine, tmp_path / "master.key")
    command.upgrade(alembic_config(engine), "0004")
    columns = AccessKey.__table__.c  # type: ignore[attr-defined]
    before_roles = sa.table("accesskey", *(sa.column(name, columns[name].type) for name in OLD_COLUMNS))
    encrypted = Fernet((tmp_path / "master.key").read_bytes()).encrypt(b"old-secret").decode()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(before_roles).values(
                access_key_id="LVAKOLDKEY0000000000", encrypted_secret=encrypted, description="old", created_at=utcnow()
            )
        )
    upgrade_to_head(engine)
    assert store.role_for("LVAKOLDKEY0000000000") is Role.ADMIN
    assert store.secret_for("LVAKOLDKEY0000000000") == "old-secret"
    assert store.create(role=Role.INFERENCE).record.role == Role.INFERENCE
    command.downgrade(alembic_config(engine), "0004")
    with engine.connect() as connection:
        columns = {column["name"] for column in sa.inspect(connection).get_columns("accesskey")}
    assert "role" not in columns

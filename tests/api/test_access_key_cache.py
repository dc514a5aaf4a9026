"""Access keys are cached for LV_AUTH_KEY_CACHE_TTL_S: a key deleted or given another role through another API replica
(here: another engine on the same database) stops working, or changes role, within the TTL; a local delete at once."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from service.auth.keys import KeyStore
from service.auth.roles import Role
from service.db.engine import build_engine, transaction
from service.db.models import AccessKey
from service.migrations.runner import upgrade_to_head

TTL_S = 0.4


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """This replica's engine and another replica's, on one SQLite database."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    here, other = build_engine(url), build_engine(url)
    upgrade_to_head(here)
    yield here, other
    here.dispose()
    other.dispose()


def test_a_key_deleted_elsewhere_is_refused_once_the_ttl_ran_out(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    here, other = engines
    store = KeyStore(here, tmp_path / "master.key", cache_ttl_s=TTL_S)
    key = store.create(role=Role.INFERENCE)
    assert store.secret_for(key.access_key_id) == key.secret_access_key
    with transaction(other) as session:
        session.execute(delete(AccessKey).where(col(AccessKey.access_key_id) == key.access_key_id))
    assert store.secret_for(key.access_key_id) == key.secret_access_key, "still cached within the TTL"
    time.sleep(TTL_S + 0.1)
    assert store.lookup(key.access_key_id) is None


def test_a_role_changed_elsewhere_applies_once_the_ttl_ran_out(engines: tuple[Engine, Engine], tmp_path: Path) -> None:
    here, other = engines
    store = KeyStore(here, tmp_path / "master.key", cache_ttl_s=TTL_S)
    key = store.create(role=Role.ADMIN).access_key_id
    assert store.role_for(key) is Role.ADMIN
    with transaction(other) as session:
        session.execute(update(AccessKey).where(col(AccessKey.access_key_id) == key).values(role=Role.INFERENCE))
    time.sleep(TTL_S + 0.1)
    assert store.role_for(key) is Role.INFERENCE


def test_a_key_deleted_here_is_refused_at_once(engines: tuple[Engine, Engine], tmp_path: Path) -> None:
    store = KeyStore(engines[0], tmp_path / "master.key", cache_ttl_s=3600)
    admin = store.create(role=Role.ADMIN).access_key_id
    key = store.create(role=Role.INFERENCE).access_key_id
    assert store.role_for(key) is Role.INFERENCE
    store.delete(key, caller=admin)
    assert store.lookup(key) is None and store.cached(key) is None


def test_a_key_created_elsewhere_works_at_once(engines: tuple[Engine, Engine], tmp_path: Path) -> None:
    here, other = engines
    store = KeyStore(here, tmp_path / "master.key", cache_ttl_s=3600)
    assert store.lookup("LVAKNOTYETCREATED000") is None
    created = KeyStore(other, tmp_path / "master.key").create(
        role=Role.REVIEWER, pair=("LVAKNOTYETCREATED000", "s" * 30)
    )
    assert store.role_for(created.access_key_id) is Role.REVIEWER

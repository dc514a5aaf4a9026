"""`python -m service.bootstrap` and the first admin key a deployment names (what infra/ relies on at start)."""

import configparser
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.auth.keys import KeyStore
from service.auth.roles import Role
from service.bootstrap import bootstrap
from service.db.engine import build_engine
from service.settings import Settings
from tests.conftest import BACKENDS
from tests.helpers.databases import database_url

SEED_ID = "LVAKSEEDEDADMIN00001"
SEED_SECRET = "s" * 40


def stored_keys(settings: Settings) -> dict[str, tuple[str, Role]]:
    engine = build_engine(settings.resolved_database_url)
    try:
        store = KeyStore(engine, settings.master_key_file)
        ids = [key.access_key_id for key in store.list_keys(after=None, limit=100)]
        return {key_id: (store.secret_for(key_id) or "", store.role_for(key_id) or Role.INFERENCE) for key_id in ids}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_bootstrap_seeds_the_named_admin_key_once(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        settings = Settings(
            home=tmp_path / "home", database_url=url, admin_access_key_id=SEED_ID, admin_secret_access_key=SEED_SECRET
        )
        bootstrap(settings)
        assert stored_keys(settings) == {SEED_ID: (SEED_SECRET, Role.ADMIN)}
        assert settings.master_key_file.stat().st_mode & 0o777 == 0o600
        assert settings.session_key_file.stat().st_mode & 0o777 == 0o600
        credentials = configparser.ConfigParser()
        credentials.read(settings.keys_file)
        assert credentials["openlv"]["aws_access_key_id"] == SEED_ID

        other = settings.model_copy(update={"admin_access_key_id": "LVAKSEEDEDADMIN00002"})
        bootstrap(other)  # a second run, even naming another key, changes nothing
        assert stored_keys(settings) == {SEED_ID: (SEED_SECRET, Role.ADMIN)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_replicas_bootstrapping_together_make_one_admin_key(backend: str, tmp_path: Path) -> None:
    """Two init steps on one fresh database and one shared LV_HOME (compose's volume): one schema, one key."""
    with database_url(backend, tmp_path) as url:
        settings = Settings(home=tmp_path / "home", database_url=url)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                bootstrap(settings)
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        keys = stored_keys(settings)
        assert [role for _, role in keys.values()] == [Role.ADMIN]
        credentials = configparser.ConfigParser()
        credentials.read(settings.keys_file)
        assert credentials["openlv"]["aws_access_key_id"] in keys


@pytest.mark.parametrize(
    "fields",
    [
        {"admin_access_key_id": SEED_ID},
        {"admin_secret_access_key": SEED_SECRET},
        {"admin_access_key_id": "AKIA0000000000000000", "admin_secret_access_key": SEED_SECRET},
        {"admin_access_key_id": SEED_ID, "admin_secret_access_key": "short"},
    ],
)
def test_a_partial_or_malformed_admin_pair_is_refused_at_start(fields: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, **fields)


def test_the_module_runs_as_the_images_call_it_and_prints_no_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LV_HOME": str(tmp_path / "home"),
        "LV_ADMIN_ACCESS_KEY_ID": SEED_ID,
        "LV_ADMIN_SECRET_ACCESS_KEY": SEED_SECRET,
    }
    done = subprocess.run(
        [sys.executable, "-m", "service.bootstrap"], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "bootstrap done" in done.stdout
    assert SEED_SECRET not in done.stdout + done.stderr
    assert stored_keys(Settings(home=tmp_path / "home")) == {SEED_ID: (SEED_SECRET, Role.ADMIN)}

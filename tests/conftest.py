"""Fixtures shared by every test: settings on a temp LV_HOME and live servers on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.helpers.databases import database_url, postgres_available
from tests.helpers.live_server import LiveServer, run_live_server

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(not postgres_available(), reason="LV_TEST_POSTGRES_URL unset")),
]


def make_settings(home: Path, **overrides: Any) -> Settings:
    return Settings(home=home, **overrides)


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server per database backend for the whole session; tests use their own project names."""
    home = tmp_path_factory.mktemp(f"lv-home-{request.param}")
    with database_url(request.param, home) as url, run_live_server(make_settings(home, database_url=url)) as live:
        yield live


@pytest.fixture
def lv(server: LiveServer) -> Any:
    """A boto3 `lookoutvision` client signed with the server's admin key."""
    return server.boto3_client()


@pytest.fixture
def project_name(request: pytest.FixtureRequest) -> str:
    """A project name unique to the test (the session server is shared)."""
    import hashlib

    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    return f"p-{digest}"

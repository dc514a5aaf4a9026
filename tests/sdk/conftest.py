"""SDK fixtures: a `Client` signed with the live server's admin key."""

from collections.abc import Iterator

import pytest

import sdk
from tests.helpers.live_server import LiveServer


def skip_unless_sqlite(server: LiveServer) -> None:
    """The SDK and CLI talk HTTP only, so their flows run against the SQLite server alone (PostgreSQL is covered by
    the API tests); this keeps their trainings from running twice."""
    if not server.settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SDK/CLI flows run against the SQLite server only")


@pytest.fixture(autouse=True, scope="module")
def _sqlite_server_only(server: LiveServer) -> None:
    skip_unless_sqlite(server)


def sdk_client(server: LiveServer, **options: object) -> sdk.Client:
    return sdk.Client(
        server.url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.settings.region,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(server: LiveServer) -> Iterator[sdk.Client]:
    with sdk_client(server) as bound:
        yield bound


@pytest.fixture
def project(client: sdk.Client, project_name: str) -> Iterator[sdk.Project]:
    created = sdk.Project.create(project_name, client=client)
    yield created
    try:
        created.delete(force=True)
    except sdk.NotFoundError:
        pass

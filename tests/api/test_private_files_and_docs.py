"""The database is private like the credentials; the API description is for signed callers (finding 11)."""

import stat
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.signing import signed_headers


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_private(tmp_path: Path) -> None:
    with run_live_server(make_settings(tmp_path)) as live:
        live.boto3_client().create_project(ProjectName="private-files")
        home = live.settings.resolved_home
        files = [home / "openlv.db", home / "openlv.db-wal", home / "openlv.db-shm"]
        present = [path for path in files if path.exists()]
        assert home / "openlv.db" in present and home / "openlv.db-wal" in present
        assert {path.name: mode(path) for path in present} == {path.name: 0o600 for path in present}
        assert mode(home / "credentials") == 0o600


def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "openlv.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    with run_live_server(make_settings(tmp_path)):
        assert mode(database) == 0o600


def get_signed(live: LiveServer, path: str) -> httpx.Response:
    url = f"{live.url}{path}"
    headers = signed_headers(
        "GET",
        url,
        access_key_id=live.access_key_id,
        secret_access_key=live.secret_access_key,
        region=live.settings.region,
    )
    return httpx.get(url, headers=headers)


@pytest.fixture(scope="module")
def private_docs(tmp_path_factory: pytest.TempPathFactory):
    with run_live_server(make_settings(tmp_path_factory.mktemp("docs"))) as live:
        yield live


def test_openapi_needs_a_signature_and_docs_are_off(private_docs: LiveServer) -> None:
    anonymous = httpx.get(f"{private_docs.url}/openapi.json")
    assert anonymous.status_code == 403
    assert anonymous.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert httpx.get(f"{private_docs.url}/docs").status_code in (400, 404)
    signed = get_signed(private_docs, "/openapi.json")
    assert signed.status_code == 200
    assert "/2020-11-20/projects" in signed.json()["paths"]


def test_public_docs_setting_serves_both(tmp_path: Path) -> None:
    with run_live_server(make_settings(tmp_path, public_api_docs=True)) as live:
        assert httpx.get(f"{live.url}/openapi.json").status_code == 200
        assert "swagger" in httpx.get(f"{live.url}/docs").text.lower()

"""SigV4 authentication against a live server: what is refused (403 AccessDeniedException) and what is kept secret."""

import json
import logging
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import AccessKey
from tests.conftest import make_settings
from tests.helpers.live_server import LiveServer, run_live_server
from tests.helpers.signing import signed_headers

PROJECTS = "/2020-11-20/projects"


def sign(server: LiveServer, method: str, path: str, body: bytes = b"", **options: Any) -> dict[str, str]:
    credentials = {"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key}
    credentials.update({key: options.pop(key) for key in list(options) if key in credentials})
    return signed_headers(method, server.url + path, body=body, region=server.settings.region, **credentials, **options)


def assert_access_denied(response: httpx.Response, message_part: str) -> None:
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    body = response.json()
    assert body["__type"] == "AccessDeniedException"
    assert message_part in body["Message"]


def create_project_body(name: str) -> bytes:
    return json.dumps({"ProjectName": name}).encode()


def project_exists(lv: Any, name: str) -> bool:
    try:
        lv.describe_project(ProjectName=name)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def test_correctly_signed_raw_request_is_accepted(server: LiveServer, lv: Any, project_name: str) -> None:
    body = create_project_body(project_name)
    headers = sign(server, "POST", PROJECTS, body, headers={"Content-Type": "application/json"})
    response = httpx.post(server.url + PROJECTS, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert project_exists(lv, project_name)


def test_unsigned_payload_is_refused_outside_the_upload(server: LiveServer, lv: Any, project_name: str) -> None:
    """A captured CreateProject signed with UNSIGNED-PAYLOAD cannot be replayed with another body (finding 7); the
    multipart upload, the one operation that streams an unsigned payload, is tested in test_uploads.py."""
    headers = sign(
        server,
        "POST",
        PROJECTS,
        create_project_body("x"),
        unsigned_payload=True,
        headers={"Content-Type": "application/json"},
    )
    assert headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    response = httpx.post(server.url + PROJECTS, content=create_project_body(project_name), headers=headers)
    assert_access_denied(response, "UNSIGNED-PAYLOAD is accepted only on UploadDatasetImages")
    assert not project_exists(lv, project_name)


def test_a_credential_scoped_to_another_region_is_refused(server: LiveServer, lv: Any, project_name: str) -> None:
    body = create_project_body(project_name)
    credentials = {"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key}
    headers = signed_headers(
        "POST",
        server.url + PROJECTS,
        body=body,
        region="eu-west-9",
        headers={"Content-Type": "application/json"},
        **credentials,
    )
    assert_access_denied(httpx.post(server.url + PROJECTS, content=body, headers=headers), "valid region")
    assert not project_exists(lv, project_name)


def test_unsigned_request_is_refused(server: LiveServer) -> None:
    assert_access_denied(httpx.get(server.url + PROJECTS), "Missing Authentication Token")
    assert_access_denied(
        httpx.get(server.url + PROJECTS, headers={"Authorization": "Bearer something"}), "not a valid AWS4-HMAC-SHA256"
    )


@pytest.mark.parametrize(
    ("credentials", "message_part"),
    [
        ({"aws_secret_access_key": "not-the-secret"}, "signature we calculated does not match"),
        ({"aws_access_key_id": "LVAKUNKNOWN000000000"}, "unknown access key"),
    ],
)
def test_wrong_credentials_are_refused_through_boto3(
    server: LiveServer, credentials: dict[str, str], message_part: str
) -> None:
    client = server.boto3_client(config=Config(retries={"total_max_attempts": 1}), **credentials)
    with pytest.raises(ClientError) as excinfo:
        client.list_projects()
    assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert message_part in excinfo.value.response["Error"]["Message"]


def test_wrong_secret_is_refused_raw(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS, secret_access_key="not-the-secret")
    assert_access_denied(httpx.get(server.url + PROJECTS, headers=headers), "signature we calculated does not match")


def test_tampered_body_is_refused_and_changes_nothing(server: LiveServer, lv: Any, project_name: str) -> None:
    signed_body = create_project_body(project_name)
    tampered = create_project_body(project_name + "-evil")
    headers = sign(server, "POST", PROJECTS, signed_body, headers={"Content-Type": "application/json"})
    assert_access_denied(
        httpx.post(server.url + PROJECTS, content=tampered, headers=headers), "signature we calculated does not match"
    )
    declared = sign(
        server,
        "POST",
        PROJECTS,
        signed_body,
        headers={"Content-Type": "application/json", "X-Amz-Content-SHA256": "0" * 64},
    )
    assert_access_denied(
        httpx.post(server.url + PROJECTS, content=tampered, headers=declared), "does not match the request body"
    )
    assert not project_exists(lv, project_name + "-evil")
    assert not project_exists(lv, project_name)


def test_tampered_path_or_query_is_refused(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS + "?maxResults=5")
    assert_access_denied(httpx.get(server.url + PROJECTS + "?maxResults=6", headers=headers), "does not match")
    assert_access_denied(httpx.get(server.url + PROJECTS + "/other?maxResults=5", headers=headers), "does not match")


@pytest.mark.parametrize("skew", [timedelta(minutes=-20), timedelta(minutes=20)])
def test_request_outside_the_clock_window_is_refused(server: LiveServer, skew: timedelta) -> None:
    headers = sign(server, "GET", PROJECTS, at=datetime.now(UTC) + skew)
    assert_access_denied(httpx.get(server.url + PROJECTS, headers=headers), "Signature expired")


def test_request_a_little_skewed_is_accepted(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS, at=datetime.now(UTC) - timedelta(minutes=5))
    assert httpx.get(server.url + PROJECTS, headers=headers).status_code == 200


def test_signed_header_missing_from_the_request_is_refused(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS, headers={"X-Amz-Meta-Line": "7"})
    assert "x-amz-meta-line" in headers["Authorization"]
    del headers["X-Amz-Meta-Line"]
    assert_access_denied(httpx.get(server.url + PROJECTS, headers=headers), "Signed headers missing")


def test_unsigned_host_header_is_refused(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS)
    headers["Authorization"] = headers["Authorization"].replace(
        "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"
    )
    assert_access_denied(httpx.get(server.url + PROJECTS, headers=headers), "host header must be signed")


def test_credential_scoped_to_another_service_is_refused(server: LiveServer) -> None:
    headers = sign(server, "GET", PROJECTS)
    headers["Authorization"] = headers["Authorization"].replace("/lookoutvision/", "/s3/")
    assert_access_denied(httpx.get(server.url + PROJECTS, headers=headers), "scoped to the lookoutvision service")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_credentials_and_master_key_files_are_private(server: LiveServer) -> None:
    home = server.settings.resolved_home
    assert mode(server.settings.keys_file) == 0o600
    assert mode(home / "master.key") == 0o600
    assert server.secret_access_key in server.settings.keys_file.read_text()


def test_secret_is_encrypted_in_the_database(server: LiveServer) -> None:
    with transaction(server.context.engine) as session:
        row = session.exec(select(AccessKey).where(AccessKey.access_key_id == server.access_key_id)).one()
    assert server.secret_access_key not in row.encrypted_secret
    assert server.context.keys.secret_for(server.access_key_id) == server.secret_access_key
    database_files = list(server.settings.resolved_home.glob("openlv.db*"))  # SQLite: the database and its WAL
    assert bool(database_files) == server.settings.resolved_database_url.startswith("sqlite")
    assert not files_contain(database_files, server.secret_access_key.encode())


def files_contain(paths: list[Path], needle: bytes) -> bool:
    """Search files from another process: closing a descriptor of a live SQLite file in this process would drop
    SQLite's POSIX locks, and a training worker closing its connection would then delete the WAL under the server."""
    script = (
        "import sys; n = bytes.fromhex(sys.argv[1]); sys.exit(any(n in open(p, 'rb').read() for p in sys.argv[2:]))"
    )
    return subprocess.run([sys.executable, "-c", script, needle.hex(), *map(str, paths)], check=False).returncode == 1


def test_secret_never_reaches_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with run_live_server(make_settings(tmp_path / "home")) as live:
        assert httpx.get(live.url + PROJECTS, headers=sign(live, "GET", PROJECTS)).status_code == 200
        bad = sign(live, "GET", PROJECTS, secret_access_key=live.secret_access_key[::-1])
        assert httpx.get(live.url + PROJECTS, headers=bad).status_code == 403
        live.boto3_client().list_projects()
    assert caplog.records, "expected the server and botocore to log at DEBUG"
    assert live.secret_access_key not in caplog.text

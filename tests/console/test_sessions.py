"""Console sessions against a live server (SQLite and PostgreSQL): the cookie stands for the access key on the API,
mutations need the CSRF token, tampered or expired cookies and cross-site sign-ins are refused, SigV4 is unchanged."""

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from service.auth import session as sessions
from service.auth.roles import Role
from tests.helpers.live_server import LiveServer


def sign_in(server: LiveServer, client: httpx.Client) -> str:
    """Sign `client` in with the server's admin key; returns the page's CSRF token."""
    reply = client.post(
        "/console/sign-in",
        data={"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key},
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/console/projects"
    page = client.get("/console/projects")
    assert page.status_code == 200
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match[1]


@pytest.fixture
def browser_client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_the_root_and_every_page_send_a_signed_out_browser_to_sign_in(
    server: LiveServer, browser_client: httpx.Client
) -> None:
    assert browser_client.get("/").headers["location"] == "/console/"
    for path in ("/console/", "/console/projects", "/console/projects/any/training", "/console/projects/any/models/1"):
        reply = browser_client.get(path, follow_redirects=True)
        assert reply.url.path == "/console/sign-in", path
    assert browser_client.get("/console/projects/any/image", params={"ref": "s3://x/y.png"}).status_code == 403


def test_a_session_calls_the_api_and_mutations_need_the_csrf_token(
    server: LiveServer, browser_client: httpx.Client, project_name: str
) -> None:
    csrf = sign_in(server, browser_client)
    cookie = browser_client.cookies[sessions.SESSION_COOKIE]
    assert server.secret_access_key not in cookie

    refused = browser_client.post("/2020-11-20/projects", json={"ProjectName": project_name})
    assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"
    wrong = browser_client.post(
        "/2020-11-20/projects", json={"ProjectName": project_name}, headers={"X-CSRF-Token": csrf + "x"}
    )
    assert wrong.status_code == 403
    pages = server.boto3_client().get_paginator("list_projects").paginate()
    assert project_name not in [p["ProjectName"] for page in pages for p in page["Projects"]]

    created = browser_client.post(
        "/2020-11-20/projects", json={"ProjectName": project_name}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 200, created.text
    assert browser_client.get("/2020-11-20/projects").status_code == 200
    described = browser_client.get(f"/2020-11-20/projects/{project_name}").json()
    assert described["ProjectDescription"]["ProjectName"] == project_name
    # SigV4 clients are unaffected, and see what the session did
    server.boto3_client().describe_project(ProjectName=project_name)
    browser_client.delete(f"/2020-11-20/projects/{project_name}", headers={"X-CSRF-Token": csrf})


def test_tampered_expired_and_foreign_cookies_are_refused(server: LiveServer, browser_client: httpx.Client) -> None:
    sign_in(server, browser_client)
    good = browser_client.cookies[sessions.SESSION_COOKIE]
    payload, _, signature = good.rpartition(".")
    forged = {"k": server.access_key_id, "c": "x"}
    foreign = URLSafeTimedSerializer("another-secret", salt="openlv-console-session").dumps(forged)
    for bad in (f"{payload}.{'A' * len(signature)}", foreign, "garbage"):
        reply = httpx.get(f"{server.url}/2020-11-20/projects", cookies={sessions.SESSION_COOKIE: bad})
        assert reply.status_code == 403 and "sign in again" in reply.json()["Message"], bad


def test_a_session_expires(tmp_path: Path) -> None:
    signer = sessions.SessionSigner(tmp_path / "session.key", ttl=timedelta(0))
    cookie, issued = signer.issue("LVAKEXAMPLE")
    assert signer.read(cookie) == issued
    time.sleep(1.1)
    assert signer.read(cookie) is None
    assert sessions.SessionSigner(tmp_path / "session.key").read(cookie) == issued
    assert (tmp_path / "session.key").stat().st_mode & 0o777 == 0o600


def test_sign_in_refuses_a_wrong_pair_and_a_cross_site_post(server: LiveServer, browser_client: httpx.Client) -> None:
    wrong = browser_client.post(
        "/console/sign-in", data={"access_key_id": server.access_key_id, "secret_access_key": "nope"}
    )
    assert wrong.status_code == 401 and sessions.SESSION_COOKIE not in browser_client.cookies
    unknown = browser_client.post("/console/sign-in", data={"access_key_id": "LVAKNOPE", "secret_access_key": "x"})
    assert unknown.status_code == 401
    cross_site = browser_client.post(
        "/console/sign-in",
        data={"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and sessions.SESSION_COOKIE not in browser_client.cookies


def test_sign_in_never_redirects_off_the_console(server: LiveServer, browser_client: httpx.Client) -> None:
    for target, expected in (("//evil.example/", "/console/projects"), ("/console/projects/x", "/console/projects/x")):
        reply = browser_client.post(
            "/console/sign-in",
            data={"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key, "next": target},
        )
        assert reply.headers["location"] == expected


def test_sign_out_ends_the_session_in_the_browser(server: LiveServer, browser_client: httpx.Client) -> None:
    csrf = sign_in(server, browser_client)
    reply = browser_client.post("/console/sign-out", data={"csrf_token": csrf})
    assert reply.status_code == 303 and reply.headers["location"] == "/console/sign-in"
    assert sessions.SESSION_COOKIE not in browser_client.cookies
    assert browser_client.get("/console/projects").status_code == 303


def test_an_inference_key_cannot_sign_in(server: LiveServer, browser_client: httpx.Client) -> None:
    pair = server.context.keys.create(description="inference only", role=Role.INFERENCE)
    reply = browser_client.post(
        "/console/sign-in", data={"access_key_id": pair.access_key_id, "secret_access_key": pair.secret_access_key}
    )
    assert reply.status_code == 403 and "inference key" in reply.text
    assert sessions.SESSION_COOKIE not in browser_client.cookies


def test_missing_projects_and_models_are_pages_that_say_so(server: LiveServer, browser_client: httpx.Client) -> None:
    sign_in(server, browser_client)
    missing = browser_client.get("/console/projects/no-such-project/hosting")
    assert missing.status_code == 404 and "There is no project named no-such-project" in missing.text
    browser_client.post(
        "/2020-11-20/projects",
        json={"ProjectName": "pages-404"},
        headers={"X-CSRF-Token": sign_in(server, browser_client)},
    )
    no_model = browser_client.get("/console/projects/pages-404/models/7")
    assert no_model.status_code == 404 and "has no model version 7" in no_model.text

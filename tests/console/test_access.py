"""Role-aware console: which pages each role sees, who may sign in, and that pages and images follow `role_of`.

Until access-key roles exist `console.access.role_of` answers "admin" for every key; these tests swap that one
function (the seam the roles merge rewires) to show that everything role-aware follows it.
"""

from collections.abc import Iterator

import httpx
import pytest

from console import access
from service.auth.session import SESSION_COOKIE
from tests.console.test_sessions import sign_in
from tests.helpers.live_server import LiveServer


def test_every_key_is_an_admin_until_roles_exist(server: LiveServer) -> None:
    assert access.role_of(server.context, server.access_key_id) == access.ADMIN


def test_the_page_table() -> None:
    assert [page.key for page in access.pages_for(access.ADMIN)] == [
        "projects",
        "project",
        "training",
        "models",
        "hosting",
        "detections",
        "review",
    ]
    assert [page.key for page in access.pages_for(access.REVIEWER)] == ["review"]
    assert access.pages_for(access.INFERENCE) == []
    assert access.sign_in_refusal(access.ADMIN) is None
    assert "inference key" in (access.sign_in_refusal(access.INFERENCE) or "")
    assert access.sign_in_refusal(access.REVIEWER) is None
    assert access.home_for(access.ADMIN) == "/console/projects"
    assert access.home_for(access.REVIEWER) == "/console/review"


@pytest.fixture
def role(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The role `role_of` answers for every key; set `role[0]`."""
    current = [access.ADMIN]
    monkeypatch.setattr(access, "role_of", lambda context, key: current[0])
    yield current


def test_sign_in_follows_the_role(server: LiveServer, role: list[str]) -> None:
    with httpx.Client(base_url=server.url) as client:
        role[0] = access.INFERENCE
        reply = client.post(
            "/console/sign-in",
            data={"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key},
        )
        assert reply.status_code == 403 and "inference key" in reply.text
        assert SESSION_COOKIE not in client.cookies
        role[0] = access.ADMIN
        sign_in(server, client)


def test_pages_and_images_follow_the_role_of_a_signed_in_key(server: LiveServer, role: list[str]) -> None:
    with httpx.Client(base_url=server.url) as client:
        sign_in(server, client)
        role[0] = access.REVIEWER
        page = client.get("/console/projects")
        assert page.status_code == 403 and "role does not include this page" in page.text
        assert client.get("/console/projects/x/image", params={"ref": "s3://x/y.png"}).status_code == 403
        assert client.get("/console/review").status_code == 200
        assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/review"
        role[0] = access.ADMIN
        assert client.get("/console/projects").status_code == 200

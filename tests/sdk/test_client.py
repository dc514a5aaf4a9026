"""Client set-up: zero configuration next to a server, idempotency tokens, the low-level request."""

import pytest

import sdk
from sdk._transport import api_path


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    """No AWS settings from this machine, no default client left over."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    sdk.set_default_client(None)
    yield monkeypatch
    sdk.set_default_client(None)


def test_zero_setup_reads_the_credentials_the_server_wrote(server, bare_environment, project_name):
    bare_environment.setenv("LV_HOME", str(server.settings.keys_file.parent))
    bare_environment.setenv("LV_ENDPOINT_URL", server.url)
    project = sdk.Project.create(project_name)
    credentials = sdk.default_client().config.credentials
    assert credentials is not None and credentials.access_key_id == server.access_key_id
    assert sdk.default_client().config.endpoint_url == server.url
    project.delete()


def test_without_credentials_requests_explain_what_to_do(server, bare_environment, tmp_path):
    bare_environment.setenv("LV_HOME", str(tmp_path / "empty"))
    with pytest.raises(sdk.AccessDeniedError, match="No credentials found"):
        list(sdk.Project.list(client=sdk.Client(server.url)))


def test_low_level_request_reaches_any_operation(client, project):
    answer = client.request("GET", api_path("projects", project.name))
    assert answer["ProjectDescription"]["ProjectName"] == project.name
    with pytest.raises(sdk.NotFoundError):
        client.request("GET", api_path("projects", project.name, "models", "99"))


def test_create_is_idempotent_under_one_client_token(client, project_name):
    token = {"X-Amzn-Client-Token": f"token-{project_name}"}
    first = client.request("POST", api_path("projects"), json_body={"ProjectName": project_name}, headers=token)
    again = client.request("POST", api_path("projects"), json_body={"ProjectName": project_name}, headers=token)
    assert again == first
    sdk.Project.get(project_name, client=client).delete()


async def _list_async(server):
    async with sdk.AsyncClient(
        server.url, access_key_id=server.access_key_id, secret_access_key=server.secret_access_key
    ) as client:
        return await client.request("GET", api_path("projects"), params={"maxResults": 1})


def test_async_client_speaks_the_same_api(server, project):
    import asyncio

    page = asyncio.run(_list_async(server))
    assert len(page["Projects"]) == 1

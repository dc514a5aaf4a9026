"""Projects, tags, errors and paging through the typed SDK against a live server."""

import pytest

import sdk


def test_create_get_list_delete(client, project_name):
    project = sdk.Project.create(project_name, client=client)
    assert project.name == project_name
    assert project.arn.endswith(f":project/{project_name}")
    assert project.creation_timestamp is not None

    fetched = sdk.Project.get(project_name, client=client)
    assert fetched.arn == project.arn
    assert fetched.dataset_summaries == []
    assert fetched.client is client

    assert project_name in {item.name for item in sdk.Project.list(client=client)}
    project.delete()
    with pytest.raises(sdk.NotFoundError) as excinfo:
        sdk.Project.get(project_name, client=client)
    assert excinfo.value.status == 404
    assert excinfo.value.code == "ResourceNotFoundException"


def test_errors_map_to_the_exception_tree(client, project):
    with pytest.raises(sdk.ConflictError):
        sdk.Project.create(project.name, client=client)
    with pytest.raises(sdk.ValidationError):
        sdk.Project.create("has space", client=client)
    bad_key = sdk.Client(client.config.endpoint_url, access_key_id="AKIANOTAKEY", secret_access_key="nope")
    with pytest.raises(sdk.AccessDeniedError):
        sdk.Project.get(project.name, client=bad_key)


def test_unreachable_endpoint_raises_connection_error():
    client = sdk.Client("http://127.0.0.1:9", access_key_id="a", secret_access_key="b", max_retries=0)
    with pytest.raises(sdk.APIConnectionError):
        list(sdk.Project.list(client=client))


def test_list_pages_through_every_project(client, project_name):
    names = {f"{project_name}-{index}" for index in range(3)}
    for name in names:
        sdk.Project.create(name, client=client)
    listed = {item.name for item in sdk.Project.list(client=client, page_size=1)}
    assert names <= listed
    for name in names:
        sdk.Project.get(name, client=client).delete()


def test_create_with_tags(client, project_name):
    project = sdk.Project.create(project_name, client=client, tags={"team": "vision"})
    assert sdk.Project.get(project_name, client=client).tags == {"team": "vision"}
    project.delete()


def test_tags_and_untag(project):
    project.tag({"a": "1"}, b="2")
    assert project.tags == {"a": "1", "b": "2"}
    project.untag("a")
    assert project.tags == {"b": "2"}


def test_refresh_updates_in_place(client, project):
    project.datasets.create("train")
    same = project.refresh()
    assert same is project
    assert [summary.dataset_type for summary in project.dataset_summaries] == ["train"]


def test_default_client_is_used_without_client_argument(client, project_name):
    sdk.set_default_client(client)
    try:
        created = sdk.Project.create(project_name)
        assert created.client is client
        assert sdk.Project.get(project_name).arn == created.arn
        created.delete()
    finally:
        sdk.set_default_client(None)

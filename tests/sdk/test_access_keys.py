"""Access keys and roles through the typed SDK against a live server."""

import pytest

import sdk
from tests.sdk.conftest import sdk_client


def test_create_use_list_and_delete_a_key(server, client, project_name):
    key = sdk.AccessKey.create(role="inference", description="camera 3", client=client)
    assert isinstance(key, sdk.NewAccessKey)
    assert (key.role, key.description) == ("inference", "camera 3")
    assert key.creation_timestamp is not None
    assert key.secret_access_key not in repr(key)
    try:
        with sdk.Client(
            server.url,
            access_key_id=key.access_key_id,
            secret_access_key=key.secret_access_key,
            region=server.settings.region,
        ) as camera:
            assert isinstance(list(sdk.Project.list(client=camera)), list)
            with pytest.raises(sdk.AccessDeniedError) as refused:
                sdk.Project.create(project_name, client=camera)
            assert refused.value.status == 403
            assert "Role 'inference' may not call CreateProject." in str(refused.value)
            listed = {item.access_key_id: item for item in sdk.AccessKey.list(client=client, page_size=1)}
            shown = listed[key.access_key_id]
            assert type(shown) is sdk.AccessKey
            assert (shown.role, shown.description) == ("inference", "camera 3")
            assert listed[server.access_key_id].role == "admin"
            shown.delete()
            with pytest.raises(sdk.AccessDeniedError):
                list(sdk.Project.list(client=camera))
    finally:
        try:
            sdk.AccessKey.delete_id(key.access_key_id, client=client)
        except sdk.NotFoundError:
            pass
    assert key.access_key_id not in {item.access_key_id for item in sdk.AccessKey.list(client=client)}


def test_refused_deletes_map_to_the_exception_tree(server, client):
    with pytest.raises(sdk.ValidationError):
        sdk.AccessKey.delete_id(server.access_key_id, client=client)
    with pytest.raises(sdk.NotFoundError):
        sdk.AccessKey.delete_id("LVAKNOSUCHKEY0000000", client=client)
    with sdk_client(server) as again:
        assert server.access_key_id in {item.access_key_id for item in sdk.AccessKey.list(client=again)}

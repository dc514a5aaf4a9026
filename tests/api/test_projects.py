"""Projects through boto3 against a live server."""

import pytest
from botocore.exceptions import ClientError


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_create_describe_list_delete(lv, project_name):
    created = lv.create_project(ProjectName=project_name)["ProjectMetadata"]
    assert created["ProjectName"] == project_name
    assert created["ProjectArn"].endswith(f":project/{project_name}")

    described = lv.describe_project(ProjectName=project_name)["ProjectDescription"]
    assert described["ProjectArn"] == created["ProjectArn"]
    assert described["Datasets"] == []

    names = [p["ProjectName"] for page in lv.get_paginator("list_projects").paginate() for p in page["Projects"]]
    assert project_name in names

    assert lv.delete_project(ProjectName=project_name)["ProjectArn"] == created["ProjectArn"]
    with pytest.raises(ClientError) as excinfo:
        lv.describe_project(ProjectName=project_name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_duplicate_name_conflicts(lv, project_name):
    lv.create_project(ProjectName=project_name)
    with pytest.raises(ClientError) as excinfo:
        lv.create_project(ProjectName=project_name)
    assert error_code(excinfo) == "ConflictException"


@pytest.mark.parametrize("name", ["-starts-with-dash", "has space", "x" * 256, "dot.ted", "ünïcode"])
def test_invalid_names_are_refused_and_nothing_is_created(lv, name):
    before = {p["ProjectName"] for page in lv.get_paginator("list_projects").paginate() for p in page["Projects"]}
    with pytest.raises(ClientError) as excinfo:
        lv.create_project(ProjectName=name)
    assert error_code(excinfo) == "ValidationException"
    after = {p["ProjectName"] for page in lv.get_paginator("list_projects").paginate() for p in page["Projects"]}
    assert after == before


def test_client_token_replays_same_answer_and_conflicts_on_other_params(lv, project_name):
    first = lv.create_project(ProjectName=project_name, ClientToken="token-create-1" + project_name)
    again = lv.create_project(ProjectName=project_name, ClientToken="token-create-1" + project_name)
    assert again["ProjectMetadata"] == first["ProjectMetadata"]
    with pytest.raises(ClientError) as excinfo:
        lv.create_project(ProjectName=project_name + "-other", ClientToken="token-create-1" + project_name)
    assert error_code(excinfo) == "ConflictException"
    with pytest.raises(ClientError):
        lv.describe_project(ProjectName=project_name + "-other")


def test_pagination_is_opaque_and_bounded(lv, project_name):
    for index in range(3):
        lv.create_project(ProjectName=f"{project_name}-{index}")
    first = lv.list_projects(MaxResults=1)
    assert len(first["Projects"]) == 1 and "NextToken" in first
    second = lv.list_projects(MaxResults=1, NextToken=first["NextToken"])
    assert second["Projects"][0]["ProjectName"] != first["Projects"][0]["ProjectName"]
    with pytest.raises(ClientError) as excinfo:
        lv.list_projects(NextToken="not-a-token")
    assert error_code(excinfo) == "ValidationException"

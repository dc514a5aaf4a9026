"""TagResource, UntagResource and ListTagsForResource through boto3, with the AWS tagging limits."""

import pytest
from botocore.exceptions import ClientError


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def tags_of(lv, arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in lv.list_tags_for_resource(ResourceArn=arn)["Tags"]}


@pytest.fixture
def project_arn(lv, project_name) -> str:
    return lv.create_project(ProjectName=project_name)["ProjectMetadata"]["ProjectArn"]


def test_tag_list_overwrite_untag(lv, project_arn):
    assert tags_of(lv, project_arn) == {}
    lv.tag_resource(ResourceArn=project_arn, Tags=[{"Key": "team", "Value": "qa"}, {"Key": "line", "Value": ""}])
    lv.tag_resource(ResourceArn=project_arn, Tags=[{"Key": "team", "Value": "inspection"}])
    assert tags_of(lv, project_arn) == {"team": "inspection", "line": ""}
    lv.untag_resource(ResourceArn=project_arn, TagKeys=["line", "never-set"])
    assert tags_of(lv, project_arn) == {"team": "inspection"}


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ([{"Key": "aws:owner", "Value": "x"}], "ValidationException"),
        ([{"Key": "AWS:owner", "Value": "x"}], "ValidationException"),
        ([{"Key": "k" * 129, "Value": "x"}], "ValidationException"),
        ([{"Key": "k", "Value": "v" * 257}], "ValidationException"),
        ([{"Key": "semi;colon", "Value": "x"}], "ValidationException"),
        ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}], "ValidationException"),
        ([{"Key": f"key-{i}", "Value": "v"} for i in range(50)], "ServiceQuotaExceededException"),
    ],
    ids=["aws-prefix", "aws-prefix-upper", "long-key", "long-value", "bad-character", "duplicate", "over-50"],
)
def test_invalid_tags_change_nothing(lv, project_arn, tags, code):
    lv.tag_resource(ResourceArn=project_arn, Tags=[{"Key": "existing", "Value": "kept"}])
    with pytest.raises(ClientError) as excinfo:
        lv.tag_resource(ResourceArn=project_arn, Tags=tags)
    assert error_code(excinfo) == code
    assert tags_of(lv, project_arn) == {"existing": "kept"}


def test_fifty_tags_fit(lv, project_arn):
    lv.tag_resource(ResourceArn=project_arn, Tags=[{"Key": f"key-{i}", "Value": "v"} for i in range(50)])
    assert len(tags_of(lv, project_arn)) == 50


def test_unknown_and_foreign_arns(lv, project_arn, project_name):
    assert tags_of(lv, project_arn) == {}
    missing = project_arn.replace(project_name, project_name + "-gone")
    with pytest.raises(ClientError) as excinfo:
        lv.list_tags_for_resource(ResourceArn=missing)
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        lv.tag_resource(ResourceArn=f"{project_arn.rsplit(':', 1)[0]}:model/{project_name}/1", Tags=[])
    assert error_code(excinfo) == "ResourceNotFoundException"
    foreign = project_arn.replace(":lookoutvision:us-east-1:", ":lookoutvision:eu-west-1:")
    with pytest.raises(ClientError) as excinfo:
        lv.tag_resource(ResourceArn=foreign, Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lv.untag_resource(ResourceArn=project_arn, TagKeys=["aws:reserved"])
    assert error_code(excinfo) == "ValidationException"


def test_recreated_project_starts_without_the_old_tags(lv, project_name):
    arn = lv.create_project(ProjectName=project_name)["ProjectMetadata"]["ProjectArn"]
    lv.tag_resource(ResourceArn=arn, Tags=[{"Key": "line", "Value": "3"}])
    lv.delete_project(ProjectName=project_name)
    lv.create_project(ProjectName=project_name)
    assert tags_of(lv, arn) == {}

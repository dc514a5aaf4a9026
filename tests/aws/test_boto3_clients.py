"""Getting a lookoutvision client: `sdk.boto.boto3_client`'s defaults, a given boto3 session, and plain boto3 with
AWS_DATA_PATH pointing at openlv's model (stock botocore no longer ships one)."""

import os
import subprocess
import sys
from typing import Any

import boto3
import botocore.loaders
import pytest

from sdk.boto import boto3_client, data_path
from tests.aws.wire import CREDENTIALS


def test_boto3_client_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_DATA_PATH", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent-config"))
    monkeypatch.setenv("LV_ENDPOINT_URL", "http://127.0.0.1:8089")
    from_env = boto3_client(**CREDENTIALS)
    assert (from_env.meta.endpoint_url, from_env.meta.region_name) == ("http://127.0.0.1:8089", "us-east-1")

    monkeypatch.delenv("LV_ENDPOINT_URL")
    aws_style = boto3_client(region_name="eu-west-1", **CREDENTIALS)
    assert aws_style.meta.endpoint_url == "https://lookoutvision.eu-west-1.amazonaws.com"


def test_boto3_client_with_given_session() -> None:
    session = boto3.Session(region_name="ap-southeast-2", **CREDENTIALS)
    client = boto3_client("http://localhost:5000", session=session)
    assert client.meta.region_name == "ap-southeast-2"
    assert client.meta.endpoint_url == "http://localhost:5000"
    assert session.client("lookoutvision", endpoint_url="http://localhost:5000").meta.service_model.metadata["uid"] == (
        "lookoutvision-2020-11-20"
    )


def test_stock_botocore_lacks_the_model() -> None:
    """Why openlv ships one: without it, current botocore does not know the service."""
    assert "lookoutvision" not in botocore.loaders.Loader().list_available_services("service-2")


def test_plain_boto3_with_aws_data_path() -> None:
    script = """
import boto3
client = boto3.client("lookoutvision", endpoint_url="http://127.0.0.1:9", region_name="us-west-2",
                      aws_access_key_id="a", aws_secret_access_key="b")
def stop(request, **_):
    print(request.method, request.url)
    raise SystemExit(0)
client.meta.events.register("before-send.lookoutvision", stop)
client.describe_dataset(ProjectName="widgets", DatasetType="train")
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["AWS_DATA_PATH"] = str(data_path())
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "GET http://127.0.0.1:9/2020-11-20/projects/widgets/datasets/train"

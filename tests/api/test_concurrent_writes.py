"""Concurrent writes that race on a unique key or a foreign key answer ConflictException, never a 500 (finding 4);
values the database cannot hold answer ValidationException."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers.live_server import LiveServer
from tests.jobs.seed import FAST_TRAINING, OUTPUT, seed_project


def outcomes(calls: list[Callable[[], Any]]) -> list[str]:
    """Run the calls at once; "ok" or the error code of each."""

    def run(call: Callable[[], Any]) -> str:
        try:
            call()
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def no_retries(server: LiveServer) -> Callable[[], Any]:
    from botocore.config import Config

    return lambda: server.boto3_client(config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def test_create_project_with_one_name_at_once(no_retries: Callable[[], Any], project_name: str) -> None:
    for round_number in range(6):
        name = f"{project_name}-{round_number}"
        callers = [no_retries() for _ in range(4)]
        results = outcomes([lambda lv=lv, name=name: lv.create_project(ProjectName=name) for lv in callers])
        assert sorted(results) == ["ConflictException"] * 3 + ["ok"], results


def test_create_model_twice_at_once(
    server: LiveServer, no_retries: Callable[[], Any], project_name: str, tmp_path: Path
) -> None:
    seed_project(server.context, project_name, tmp_path, train=(10, 0), test=(10, 10))
    callers = [no_retries() for _ in range(2)]
    results = outcomes(
        [
            lambda lv=lv: lv.create_model(ProjectName=project_name, OutputConfig=OUTPUT, **FAST_TRAINING)
            for lv in callers
        ]
    )
    assert set(results) <= {"ok", "ConflictException"} and "ok" in results, results
    lv = callers[0]
    for model in lv.list_models(ProjectName=project_name)["Models"]:
        lv.delete_model(ProjectName=project_name, ModelVersion=model["ModelVersion"])


def test_delete_project_racing_create_dataset(no_retries: Callable[[], Any], project_name: str) -> None:
    for round_number in range(5):
        name = f"{project_name}-{round_number}"
        deleter, creator = no_retries(), no_retries()
        deleter.create_project(ProjectName=name)
        results = outcomes(
            [
                lambda lv=deleter, name=name: lv.delete_project(ProjectName=name),
                lambda lv=creator, name=name: lv.create_dataset(ProjectName=name, DatasetType="train"),
            ]
        )
        assert set(results) <= {"ok", "ConflictException", "ResourceNotFoundException"}, results


def test_a_value_the_database_cannot_hold_is_a_validation_error(lv: Any) -> None:
    """Found by the fuzz test: PostgreSQL text cannot hold NUL, which was a 500."""
    with pytest.raises(ClientError) as raised:
        lv.describe_project(ProjectName="nul\x00name")
    assert raised.value.response["Error"]["Code"] in ("ValidationException", "ResourceNotFoundException")

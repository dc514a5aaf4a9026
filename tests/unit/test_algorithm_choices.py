"""One list of trainable algorithms everywhere: the engine registry, the service model's `AlgorithmName` enum (boto3),
the SDK's `Algorithm` type and the CLI's `--algorithm` choices (the console asks the registry itself)."""

import json

import pytest
from click.testing import CliRunner

import sdk
from cli.main import cli
from sdk.boto import data_path
from service.engine.registry import list_models

REGISTERED = sorted(spec.name for spec in list_models())


def test_the_sdk_and_the_service_model_list_every_registered_model() -> None:
    service_model = json.loads((data_path() / "lookoutvision" / "2020-11-20" / "service-2.json").read_text())
    assert sorted(service_model["shapes"]["AlgorithmName"]["enum"]) == REGISTERED
    assert sorted(sdk.ALGORITHMS) == REGISTERED


@pytest.mark.parametrize("command", [["models", "train"], ["demo"]])
def test_cli_offers_every_registered_model(command: list[str]) -> None:
    shown = CliRunner().invoke(cli, [*command, "-h"], terminal_width=200)
    assert shown.exit_code == 0
    assert f"[{'|'.join(REGISTERED)}]" in shown.output


def test_cli_refuses_an_unknown_algorithm_before_any_request() -> None:
    refused = CliRunner().invoke(cli, ["models", "train", "-p", "any", "--algorithm", "fastflowz"])
    assert refused.exit_code == 2
    assert "'fastflowz' is not one of" in refused.output

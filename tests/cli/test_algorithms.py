"""`lv models train --algorithm` offers exactly the engine's registered models (through the SDK's list)."""

from click.testing import CliRunner

from cli.main import cli
from sdk.algorithms import BUILTIN_ALGORITHMS
from service.engine.registry import list_models


def test_the_sdk_lists_every_registered_model() -> None:
    assert BUILTIN_ALGORITHMS == tuple(spec.name for spec in list_models())


def test_train_offers_each_algorithm_and_refuses_others_before_calling_a_server() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["models", "train", "--help"])
    assert shown.exit_code == 0
    assert all(name in shown.output for name in BUILTIN_ALGORITHMS) and "efficient_ad" in shown.output
    refused = runner.invoke(cli, ["models", "train", "-p", "any", "--algorithm", "efficientad"])
    assert refused.exit_code == 2 and "'efficientad' is not one of" in refused.output

"""`lv models shadow` and the SDK's shadow methods on `Model`, against the live server with two hosted tiny models."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import sdk
from service.engine.data import ImageRecord
from tests.cli.conftest import Invoke
from tests.helpers.live_server import LiveServer
from tests.hosting.models import (
    add_trained_model,
    defective_pixels,
    encode,
    normal_pixels,
    tiny_candidate,
    tiny_model,
)

__all__ = ["tiny_candidate", "tiny_model"]

PROJECT = "cli-shadow"
TinyModel = tuple[Path, list[ImageRecord]]


@pytest.fixture
def client(server: LiveServer) -> sdk.Client:
    return sdk.Client(server.url, access_key_id=server.access_key_id, secret_access_key=server.secret_access_key)


@pytest.fixture
def hosted_pair(
    server: LiveServer, client: sdk.Client, tiny_model: TinyModel, tiny_candidate: TinyModel
) -> Iterator[tuple[sdk.Model, sdk.Model]]:
    project = sdk.Project.create(PROJECT, client=client)
    add_trained_model(server, PROJECT, tiny_model[0], version=1)
    add_trained_model(server, PROJECT, tiny_candidate[0], version=2)
    live, candidate = (sdk.Model.get(PROJECT, version, client=client).start(1) for version in ("1", "2"))
    yield live, candidate
    for model in (live, candidate):
        if model.refresh().status == "HOSTED":
            model.stop()
    for model in (live, candidate):
        model.delete()
    project.delete()


def test_shadow_commands_start_show_promote_review_and_stop(
    lv: Invoke, hosted_pair: tuple[sdk.Model, sdk.Model], tiny_model: TinyModel
) -> None:
    live, candidate = hosted_pair
    started = lv("models", "shadow", "start", "-p", PROJECT, "2", "--live", "1", "--json")
    assert started.exit_code == 0, started.output
    pair = json.loads(started.stdout)
    assert (pair["LiveModelVersion"], pair["ShadowModelVersion"], pair["Status"]) == ("1", "2", "ACTIVE")

    records = tiny_model[1]
    for record in records[:3]:
        live.detect(encode(normal_pixels(record)))
        live.detect(encode(defective_pixels(record)))

    shown = json.loads(lv("models", "shadow", "show", "-p", PROJECT, "1", "--json").stdout)
    typed = candidate.describe_shadow_comparison()
    assert shown["Compared"] == typed.compared == 6
    assert shown["Agreeing"] == typed.agreeing and typed.live.model_version == "1"
    text = lv("models", "shadow", "show", "-p", PROJECT, "2").stdout
    assert "compared               6" in text and "shadow 2 latency" in text

    promoted = json.loads(lv("models", "shadow", "promote", "-p", PROJECT, "1", "--json").stdout)
    assert (promoted["LiveModelVersion"], promoted["Promotions"]) == ("2", 1)
    assert candidate.promote_shadow().live_model_version == "1", "promoting again rolls back"

    sent = json.loads(lv("models", "shadow", "review", "-p", PROJECT, "1", "--json").stdout)
    assert len(sent["TaskIds"]) == 6 - shown["Agreeing"]

    stopped = json.loads(lv("models", "shadow", "stop", "-p", PROJECT, "1", "--json").stdout)
    assert stopped["Status"] == "STOPPED"
    assert candidate.refresh().status in {"STOPPING_HOSTING", "TRAINED"}

    again = lv("models", "shadow", "promote", "-p", PROJECT, "1")
    assert again.exit_code == 1 and "has no shadow model running" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_the_sdk_refuses_a_live_model_of_another_project(
    client: sdk.Client, hosted_pair: tuple[sdk.Model, sdk.Model]
) -> None:
    live, candidate = hosted_pair
    other = live.model_copy(update={"project_name": "some-other-project"})
    with pytest.raises(sdk.ValidationError, match="belongs to another project"):
        candidate.shadow(live=other)
    with pytest.raises(sdk.NotFoundError, match="never run in a shadow pair"):
        candidate.describe_shadow_comparison()
    pair = candidate.shadow(live=live, sample_percent=25)
    assert (pair.live_model_version, pair.shadow_model_version, pair.sample_percent) == ("1", "2", 25.0)
    assert candidate.stop_shadow().status == "STOPPED"

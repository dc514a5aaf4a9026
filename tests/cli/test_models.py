"""`lv demo` end to end, then `lv models` and `lv detect-anomalies` on the model it left hosted."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.demo_data import make_demo_images
from cli.main import cli
from tests.cli.conftest import isolated_env

PROJECT = "cli-demo"


@pytest.fixture(scope="module")
def demo(server, tmp_path_factory):
    """Configure a profile, run `lv demo` once (tiny: 10 train images, 64 px) and keep its model hosted."""
    home = tmp_path_factory.mktemp("cli-models")
    env = isolated_env(home)
    runner = CliRunner()

    def lv(*args: str):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    configured = lv(
        "configure",
        "--endpoint-url",
        server.url,
        "--access-key-id",
        server.access_key_id,
        "--secret-access-key",
        server.secret_access_key,
    )
    assert configured.exit_code == 0
    result = lv("demo", "--project", PROJECT, "--images", "10", "--workdir", str(home / "images"))
    yield lv, result, home / "images"
    lv("projects", "delete", PROJECT, "--force", "--yes")


def test_demo_runs_the_whole_flow(demo):
    _, result, images = demo
    assert result.exit_code == 0, result.stderr
    assert "training model 1 (padim)" in result.stderr
    assert "uploading" in result.stderr and "training" in result.stderr
    lines = result.stdout.splitlines()
    queries = sorted(path.name for path in (images / "queries").iterdir())
    assert sorted(line.split()[0] for line in lines[: len(queries)]) == queries
    assert f"model 1 of {PROJECT} is hosted" in result.stdout


def test_models_list_describe_and_threshold(demo):
    lv, _, _ = demo
    listed = json.loads(lv("models", "list", "-p", PROJECT, "--json").stdout)
    assert [(m["ModelVersion"], m["Status"]) for m in listed] == [("1", "HOSTED")]
    described = lv("models", "describe", "-p", PROJECT, "1")
    assert "status           HOSTED" in described.stdout
    shown = json.loads(lv("models", "threshold", "-p", PROJECT, "1", "--json").stdout)
    assert shown["ThresholdPolicy"]["Policy"] == "F1_OPTIMAL"
    moved = lv("models", "threshold", "-p", PROJECT, "1", "--target-recall", "1.0")
    assert "TARGET_RECALL 1" in moved.stdout
    assert "recall               1.000" in moved.stdout
    assert "recall 95 %" in moved.stdout and "target               recall 1.000 (target 1)" in moved.stdout
    sure = lv("models", "threshold", "-p", PROJECT, "1", "--target-recall", "0.5", "--confidence", "0.5")
    assert "TARGET_RECALL 0.5 at 50 % confidence" in sure.stdout and "lower bound" in sure.stdout
    assert "recall 50 %" in sure.stdout
    refused = lv("models", "threshold", "-p", PROJECT, "1", "--target-recall", "0.999", "--confidence", "0.95")
    assert refused.exit_code == 1 and "at least 2995 anomalous test images are needed" in refused.output
    alone = lv("models", "threshold", "-p", PROJECT, "1", "--confidence", "0.95")
    assert alone.exit_code == 2 and "--confidence goes with" in alone.output
    reset = json.loads(lv("models", "threshold", "-p", PROJECT, "1", "--f1-optimal", "--json").stdout)
    assert reset["Threshold"] == pytest.approx(0.5)


def test_detect_anomalies_exit_status_lines_and_masks(demo, tmp_path):
    lv, _, _ = demo
    images = make_demo_images(tmp_path / "fresh", n_train=0, n_test=0, n_queries=4, seed=7)
    good = [path for path in images.queries if path.name.endswith("-good.png")]

    normal_only = lv("detect-anomalies", "-p", PROJECT, *map(str, good), "--json")
    report = json.loads(normal_only.stdout)
    assert report["summary"]["images"] == len(good)
    expected = 3 if report["summary"]["anomalous"] else 0
    assert normal_only.exit_code == expected

    masks = tmp_path / "masks"
    folder = lv(
        "detect-anomalies",
        "-p",
        PROJECT,
        "--model-version",
        "1",
        str(images.queries[0].parent),
        "--save-mask",
        str(masks),
    )
    lines = folder.stdout.splitlines()
    assert len(lines) == len(images.queries) + 1
    anomalous = sum(" anomalous " in line for line in lines[:-1])
    assert lines[-1].startswith(f"{len(images.queries)} images: ")
    assert f"{anomalous} anomalous, 0 failed" in lines[-1]
    assert folder.exit_code == (3 if anomalous else 0)
    assert sorted(path.name for path in masks.iterdir()) == sorted(f"{p.stem}_mask.png" for p in images.queries)


def test_detect_anomalies_errors(demo, tmp_path):
    lv, _, _ = demo
    missing = lv("detect-anomalies", "-p", "no-such-project", str(Path(__file__)))
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: ResourceNotFoundException")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    broken = lv("detect-anomalies", "-p", PROJECT, str(tmp_path / "broken.png"))
    assert broken.exit_code == 1
    assert "error" in broken.stdout.splitlines()[0]
    assert broken.stdout.splitlines()[-1].endswith("1 failed (model cli-demo/1)")

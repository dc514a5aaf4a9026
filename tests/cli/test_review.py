"""`lv review` against a live server: policy set/show, next (answered on the terminal), stats, add-to-dataset."""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.cli.conftest import Invoke
from tests.helpers.live_server import LiveServer
from tests.review.seed import SIZE, png, seed_tasks


def test_policy_set_and_show(lv: Invoke, server: LiveServer, cleanup_projects: list[str], project_name: str) -> None:
    cleanup_projects.append(project_name)
    seed_tasks(server, project_name, [])
    result = lv(
        "review",
        "policy",
        "set",
        "-p",
        project_name,
        "--confidence-below",
        "0.7",
        "--sampling-percent",
        "10",
        "--score-band",
        "0.45",
        "0.55",
        "--daily-cap",
        "500",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["DailyCap"] == 500
    shown = lv("review", "policy", "show", "-p", project_name)
    assert "confidence below       0.700" in shown.stdout and "0.45-0.55" in shown.stdout
    refused = lv("review", "policy", "set", "-p", project_name, "--model-version", "9")
    assert refused.exit_code == 1 and "does not exist" in refused.output


def test_next_stats_and_add_to_dataset(
    lv: Invoke, server: LiveServer, cleanup_projects: list[str], project_name: str, tmp_path: Path
) -> None:
    cleanup_projects.append(project_name)
    ids = seed_tasks(server, project_name, [0.52, 0.2], sampled={1})
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    mask[1:5, 1:5] = 255
    (tmp_path / "mask.png").write_bytes(png(mask))
    first = lv(
        "review",
        "next",
        "-p",
        project_name,
        "--save-dir",
        str(tmp_path / "out"),
        input=f"anomaly\n{tmp_path / 'mask.png'}\n",
    )
    assert first.exit_code == 0, first.output
    assert f"task {ids[0]} (LOW_CONFIDENCE): model says anomaly" in first.stderr
    assert Image.open(tmp_path / "out" / f"task-{ids[0]}-heatmap.png").size == (SIZE, SIZE)
    assert (tmp_path / "out" / f"task-{ids[0]}.png").is_file() and "COMPLETED (anomaly)" in first.stderr
    second = lv(
        "review", "next", "-p", project_name, "--save-dir", str(tmp_path / "out"), "--verdict", "normal", "--json"
    )
    assert json.loads(second.stdout)["HumanVerdict"] == "normal"
    empty = lv("review", "next", "-p", project_name, "--save-dir", str(tmp_path / "out"), "--verdict", "normal")
    assert empty.exit_code == 0 and "no review task waits" in empty.stderr

    listed = lv("review", "list", "-p", project_name, "--status", "COMPLETED")
    assert listed.stdout.count("COMPLETED") == 2
    stats = json.loads(lv("review", "stats", "-p", project_name, "1", "--json").stdout)
    assert (stats["Completed"], stats["Audits"]["TrueNegatives"], stats["FalsePositives"]) == (2, 1, 0)
    text = lv("review", "stats", "-p", project_name, "1").stdout
    assert "production recall" in text and "0 0 1 0" in text
    added = lv("review", "add-to-dataset", "-p", project_name, "--dataset", "train")
    assert added.exit_code == 0 and "added 2 task(s)" in added.stdout
    again = lv("review", "add-to-dataset", "-p", project_name, "--dataset", "train", "--task-id", ids[0], "--json")
    assert json.loads(again.stdout)["AlreadyAddedTaskIds"] == [ids[0]]

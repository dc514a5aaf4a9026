"""The review pages in headless Chromium against a live server: a reviewer key signs in, sees only the review queue,
judges three routed detections with the keyboard (one verdict undone, one with a painted mask) and leaves the page
(the held verdict is sent and the task on screen released); the API shows the verdicts. An admin sets a policy in
the page and sees the statistics. Each page is photographed at 1280x800 and 768 px and must log no browser error.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from service.auth.roles import Role
from tests.api.test_hosting import TinyModel
from tests.conftest import make_settings
from tests.console.browser import DESKTOP, TABLET, Tab, launched
from tests.console.test_console_flow import UNNAMED_CONTROLS
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import add_trained_model, tiny_model, wait_for_status
from tests.review.conftest import images

__all__ = ["tiny_model"]
PROJECT = "gaskets"
ROUTED = 5


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(make_settings(tmp_path_factory.mktemp("lv-review-console"))) as server:
        yield server


@pytest.fixture(scope="module")
def lv(live: LiveServer) -> Any:
    return live.boto3_client()


@pytest.fixture(scope="module")
def routed(live: LiveServer, lv: Any, tiny_model: TinyModel) -> Iterator[list[str]]:
    """A hosted tiny model whose policy audits every detection, and the ids of the tasks five detections made."""
    lv.create_project(ProjectName=PROJECT)
    add_trained_model(live, PROJECT, tiny_model[0])
    lv.start_model(ProjectName=PROJECT, ModelVersion="1", MinInferenceUnits=1)
    wait_for_status(lv, PROJECT, "1", "HOSTED")
    lv.put_review_policy(ProjectName=PROJECT, SamplingPercent=100)
    ids = []
    for body in images(tiny_model, ROUTED):
        reply = lv.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")
        assert reply["HumanReview"]["Routed"], reply["HumanReview"]
        ids.append(reply["HumanReview"]["TaskId"])
    yield ids
    lv.stop_model(ProjectName=PROJECT, ModelVersion="1")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("LV_CONSOLE_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as chromium:
        yield chromium


def sign_in(browser: Any, live: LiveServer, screenshots: Path, key_id: str, secret: str) -> Tab:
    tab = Tab(browser.new_context(viewport=DESKTOP), live.url, screenshots)
    tab.goto("/")
    tab.page.get_by_label("Access key id").fill(key_id)
    tab.page.get_by_label("Secret access key").fill(secret)
    tab.page.get_by_role("button", name="Sign in").click()
    return tab


def check_page(tab: Tab, name: str) -> None:
    """No unnamed control, no browser error, and a screenshot at desktop and tablet width."""
    assert tab.page.evaluate(UNNAMED_CONTROLS) == []
    tab.shoot(name)
    tab.page.set_viewport_size(TABLET)
    tab.shoot(f"{name}-tablet")
    tab.page.set_viewport_size(DESKTOP)
    tab.assert_clean()


def on_screen(tab: Tab) -> str:
    meta = tab.page.locator("#task-meta")
    expect(meta).to_contain_text("Task ")
    return meta.inner_text().split()[1]


def next_task(tab: Tab, before: str) -> str:
    expect(tab.page.locator("#task-meta")).not_to_contain_text(f"Task {before} ")
    return on_screen(tab)


def test_a_reviewer_judges_three_tasks_with_the_keyboard(
    browser: Any, live: LiveServer, lv: Any, routed: list[str], screenshots: Path
) -> None:
    pair = live.context.keys.create(role=Role.REVIEWER, description="console reviewer")
    tab = sign_in(browser, live, screenshots, pair.access_key_id, pair.secret_access_key)
    page = tab.page
    page.wait_for_url("**/console/review")
    expect(page.get_by_role("row", name=f"{PROJECT} {ROUTED}")).to_be_visible()
    check_page(tab, "review-home")
    page.get_by_role("link", name=f"Review {PROJECT}").click()
    page.wait_for_url(f"**/console/projects/{PROJECT}/review")
    assert page.get_by_role("navigation", name="Project pages").get_by_role("link").all_inner_texts() == ["Review"]
    expect(page.locator("#count-pending")).to_have_text(str(ROUTED - 1))
    first = on_screen(tab)
    expect(page.locator("#task-heatmap")).to_be_visible()
    page.keyboard.press("h")
    expect(page.locator("#task-heatmap")).to_be_hidden()
    page.keyboard.press("h")
    check_page(tab, "review-task")

    page.keyboard.press("n")  # first: normal, held for 10 s
    second = next_task(tab, first)
    expect(page.locator("#held")).to_contain_text(f"Task {first} marked normal")
    page.keyboard.press("a")  # second: anomaly (sends the first) ...
    third = next_task(tab, second)
    page.keyboard.press("u")  # ... undone: the second comes back, the third goes back to the queue
    expect(page.locator("#task-meta")).to_contain_text(f"Task {second} ")
    assert lv.describe_review_task(ProjectName=PROJECT, TaskId=third)["ReviewTask"]["Status"] == "PENDING"
    page.keyboard.press("n")  # second: normal after all
    last = next_task(tab, second)
    page.get_by_label("Paint the defect (sent with an anomaly verdict)").check()
    box = page.locator("#task-mask").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.get_by_label("Note").fill("scratch near the edge")
    page.get_by_label("Note").blur()  # keys typed in the note are text, not verdicts
    page.keyboard.press("a")  # last: anomaly with a mask, held
    left_on_screen = next_task(tab, last)
    page.get_by_role("link", name="openlv console home").click()  # leaving sends the held verdict, releases the task
    page.wait_for_url("**/console/review")

    wanted = {first: "normal", second: "normal", last: "anomaly"}
    deadline = time.monotonic() + 10
    while True:
        found = {
            tid: lv.describe_review_task(ProjectName=PROJECT, TaskId=tid)["ReviewTask"]
            for tid in [*wanted, left_on_screen]
        }
        if all(found[tid]["Status"] == "COMPLETED" for tid in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {tid: (found[tid]["Status"], found[tid].get("HumanVerdict")) for tid in wanted} == {
        tid: ("COMPLETED", verdict) for tid, verdict in wanted.items()
    }
    action = found[last]["Actions"][-1]
    assert action["Reviewer"] == pair.access_key_id and action["HasMask"] and action["Note"] == "scratch near the edge"
    assert "HumanMask" in found[last]
    assert found[left_on_screen]["Status"] == "PENDING", "leaving the page releases the task on screen"

    page.goto(f"{live.url}/console/projects/{PROJECT}/review")
    expect(page.locator("#count-today")).to_have_text("3")
    skipped = on_screen(tab)
    page.keyboard.press("s")  # skip the two left: then nothing is left for this reviewer
    next_task(tab, skipped)
    page.keyboard.press("s")
    expect(page.get_by_text("No tasks waiting")).to_be_visible()
    expect(page.locator("#review-task")).to_be_hidden()
    check_page(tab, "review-empty")
    assert page.goto(f"{live.url}/console/projects").status == 403
    tab.forget_refusal(403)
    tab.assert_clean()


def test_an_admin_sets_the_policy_and_reads_the_statistics(
    browser: Any, live: LiveServer, lv: Any, routed: list[str], screenshots: Path
) -> None:
    tab = sign_in(browser, live, screenshots, live.access_key_id, live.secret_access_key)
    page = tab.page
    page.wait_for_url("**/console/projects")
    page.goto(f"{live.url}/console/projects/{PROJECT}/review")
    expect(page.locator("#stats-precision")).not_to_have_text("")
    expect(page.get_by_label("Audit sample (%)")).to_have_value("100")
    page.get_by_label("Confidence below").fill("0.7")
    page.get_by_label("Audit sample (%)").fill("5")
    page.get_by_label("Daily cap").fill("200")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#toast")).to_contain_text("Review policy saved")
    policy = lv.describe_review_policy(ProjectName=PROJECT)["ReviewPolicy"]
    assert (policy["ConfidenceBelow"], policy["SamplingPercent"], policy["DailyCap"]) == (0.7, 5.0, 200)
    assert policy["UpdatedBy"] == live.access_key_id and policy["TaskTimeToLiveSeconds"] == 604800
    stats = lv.describe_review_statistics(ProjectName=PROJECT, ModelVersion="1")
    assert stats["Audits"]["Completed"] == 3 and stats["Precision"]["Trials"] >= 1, stats
    expect(page.locator("#stats-precision")).to_contain_text(
        f"{stats['Precision']['Successes']}/{stats['Precision']['Trials']}"
    )
    check_page(tab, "review-admin")

    page.goto(f"{live.url}/console/projects/{PROJECT}/models/1")  # the production estimate on the model page
    precision = stats["Precision"]
    expect(page.locator("#production-precision")).to_contain_text(f"{precision['Successes']}/{precision['Trials']}")
    check_page(tab, "model-production")

"""The console end to end in headless Chromium against a live server: sign in, import, upload, train, tune the
threshold on live curves, apply a target recall, host, try an image, read the detections log.

The tests run in file order and share one project (each step needs the one before); every page is photographed at
1280x800 into `$LV_CONSOLE_SCREENSHOTS` (default: the session's temp folder, `console-screenshots/`) and must log no browser error.
"""

import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from service.auth.session import SESSION_COOKIE
from tests.conftest import make_settings
from tests.console.browser import DESKTOP, TABLET, Tab, launched, require_chromium
from tests.console.data import put_mvtec_tree
from tests.helpers.live_server import LiveServer, run_live_server

PROJECT = "widgets"
UNNAMED_CONTROLS = """[...document.querySelectorAll('button, input, select, textarea, a[href]')]
    .filter(node => !node.closest('[hidden]') && node.type !== 'hidden')
    .filter(node => !(node.labels?.length || node.getAttribute('aria-label') || node.textContent.trim()))
    .map(node => node.outerHTML.slice(0, 80))"""
TRAINING_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(make_settings(tmp_path_factory.mktemp("lv-console"))) as server:
        yield server


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("LV_CONSOLE_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def signed_in(browser: Any, live: LiveServer, screenshots: Path) -> Iterator[Tab]:
    """One signed-in tab shared by the flow, at 1280x800."""
    context = browser.new_context(viewport=DESKTOP)
    tab = Tab(context, live.url, screenshots)
    tab.goto("/")
    tab.page.get_by_label("Access key id").fill(live.access_key_id)
    tab.page.get_by_label("Secret access key").fill(live.secret_access_key)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url("**/console/projects")
    yield tab
    context.close()


def test_sign_in_refuses_a_wrong_secret_and_keeps_the_session_out_of_scripts(
    browser: Any, live: LiveServer, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    tab = Tab(context, live.url, screenshots)
    tab.goto("/")
    assert tab.page.url.endswith("/console/sign-in")
    tab.shoot("sign-in")
    tab.page.get_by_label("Access key id").fill(live.access_key_id)
    tab.page.get_by_label("Secret access key").fill("not-the-secret")
    tab.page.get_by_role("button", name="Sign in").click()
    assert "do not match" in tab.page.get_by_role("alert").inner_text()
    assert not [cookie for cookie in context.cookies() if cookie["name"] == SESSION_COOKIE]

    tab.page.get_by_label("Access key id").fill(live.access_key_id)
    tab.page.get_by_label("Secret access key").fill(live.secret_access_key)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url("**/console/projects")
    (cookie,) = [cookie for cookie in context.cookies() if cookie["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["expires"] > time.time()
    assert SESSION_COOKIE not in tab.page.evaluate("document.cookie")
    assert live.secret_access_key not in tab.page.content()

    tab.page.get_by_role("button", name="Sign out").click()
    tab.page.wait_for_url("**/console/sign-in")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == SESSION_COOKIE]
    context.close()
    tab.forget_refusal(401)  # the wrong secret
    tab.assert_clean()


def test_projects_page_creates_a_project_and_explains_the_delete_rule(signed_in: Tab, live: LiveServer) -> None:
    page = signed_in.page
    expect(page.locator("#projects")).to_contain_text("No projects yet")
    signed_in.shoot("projects-empty")
    page.get_by_label("New project name").fill(PROJECT)
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(f"**/console/projects/{PROJECT}")
    assert [p["ProjectName"] for p in live.boto3_client().list_projects()["Projects"]] == [PROJECT]
    signed_in.goto("/console/projects")
    page.get_by_role("link", name=PROJECT).wait_for()
    assert "no datasets and no models" in page.locator(".hint").inner_text()
    signed_in.shoot("projects")
    signed_in.assert_clean()


def test_import_upload_and_gallery(signed_in: Tab, live: LiveServer, tmp_path: Path) -> None:
    uri = put_mvtec_tree(
        live.context, tmp_path, "incoming/widgets/", n_train=10, n_test_good=10, n_test_defect=4, size=64
    )
    page = signed_in.page
    signed_in.goto(f"/console/projects/{PROJECT}")
    expect(page.locator("#datasets")).to_contain_text("No images yet")
    page.get_by_label("Folder in the service's bucket").fill(uri)
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Imported.").wait_for()
    lv = live.boto3_client()
    stats = {
        kind: lv.describe_dataset(ProjectName=PROJECT, DatasetType=kind)["DatasetDescription"]["ImageStats"]
        for kind in ("train", "test")
    }
    assert stats["train"]["Normal"] == 10 and stats["test"]["Anomaly"] == 12
    expect(page.locator('[data-dataset="test"]')).to_contain_text(
        re.compile(rf"{stats['test']['Total']}\s*images", re.IGNORECASE)
    )

    extra = tmp_path / "extra.png"
    Image.new("RGB", (64, 64), (120, 110, 90)).save(extra)
    page.get_by_label("Upload into dataset").select_option("train")
    page.get_by_label("Choose images to upload").set_input_files([str(extra)])
    page.get_by_text("1 uploaded (1 new").wait_for()
    assert page.get_by_role("progressbar", name="Upload progress").get_attribute("aria-valuenow") == "100"
    train = lv.describe_dataset(ProjectName=PROJECT, DatasetType="train")["DatasetDescription"]["ImageStats"]
    assert train["Total"] == 11

    gallery = page.locator("#gallery")
    page.get_by_label("Gallery dataset").select_option("test")
    page.get_by_label("Gallery label filter").select_option("anomaly")
    page.wait_for_function("document.querySelectorAll('#gallery .tile').length === 12")
    assert set(gallery.locator(".chip").all_inner_texts()) == {"anomaly"}
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].every(img => img.complete && img.naturalWidth > 0)"
    )
    assert any(key.startswith("thumbnails/") for key in live.context.store.list("thumbnails/"))
    signed_in.shoot("project")
    signed_in.assert_clean()


def test_training_shows_progress_then_the_evaluation(signed_in: Tab, live: LiveServer) -> None:
    page = signed_in.page
    signed_in.goto(f"/console/projects/{PROJECT}/training")
    expect(page.locator("#versions")).to_contain_text("No models yet")
    page.get_by_label("Algorithm").select_option("patchcore")
    page.get_by_label("Image size (px)").fill("64")
    page.get_by_label("Backbone weights").select_option("random")
    page.get_by_label("Tiles").select_option("auto")
    page.get_by_label("Hyperparameters").fill("no_such_setting=1")
    page.get_by_role("button", name="Start training").click()
    expect(page.locator("#train-error")).to_contain_text("Invalid Hyperparameters")
    signed_in.forget_refusal(400)
    page.get_by_label("Hyperparameters").fill("coreset_ratio=0.5")
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("progressbar", name="Training progress").wait_for()
    signed_in.shoot("training")
    page.get_by_role("link", name="See the evaluation").wait_for(timeout=TRAINING_TIMEOUT_MS)
    assert page.locator(".log").inner_text().strip(), "the log shows the training's lines"
    description = live.boto3_client().describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]
    assert description["Status"] == "TRAINED" and description["Algorithm"] == "patchcore"
    assert description["Hyperparameters"]["tile_size"] == "auto", "the Tiles choice reaches CreateModel"
    signed_in.shoot("training-done")
    signed_in.goto(f"/console/projects/{PROJECT}/models")
    page.get_by_role("link", name="Version 1").wait_for()
    signed_in.shoot("models")
    signed_in.assert_clean()


def _live_figure(page: Any, label: str) -> str:
    return page.locator("#live-metrics .figure", has_text=label).locator(".value").inner_text()


def test_threshold_slider_and_target_recall(signed_in: Tab, live: LiveServer) -> None:
    page = signed_in.page
    signed_in.goto(f"/console/projects/{PROJECT}/models/1")
    page.locator("#roc-chart canvas").wait_for()
    page.wait_for_function("document.querySelectorAll('#results .tile').length > 0")
    page.wait_for_function(
        "[...document.querySelectorAll('#results img.heat')].every(img => img.complete && img.naturalWidth > 0)",
        timeout=60_000,
    )
    assert list(live.context.store.list("heatmaps/")), "heatmaps are kept after the first view"
    page.keyboard.press("h")
    expect(page.locator("#results")).to_have_class(re.compile("no-heat"))
    page.keyboard.press("h")
    expect(page.locator("#results")).not_to_have_class(re.compile("no-heat"))
    signed_in.shoot("model")
    before = (
        _live_figure(page, "recall"),
        _live_figure(page, "false-positive rate"),
        page.locator("#cm-tp").inner_text(),
    )
    page.get_by_role("slider", name="Threshold").fill("0")
    assert _live_figure(page, "recall") == "100.0%"
    assert _live_figure(page, "false-positive rate") == "100.0%"
    assert page.locator("#threshold-value").inner_text() == "0.000"
    page.get_by_role("slider", name="Threshold").fill("1")
    after = (
        _live_figure(page, "recall"),
        _live_figure(page, "false-positive rate"),
        page.locator("#cm-tp").inner_text(),
    )
    assert before != after or before[0] != "100.0%"

    page.get_by_label("Target recall", exact=True).fill("1.0")
    page.get_by_role("button", name="Move the slider to the target recall").click()
    assert _live_figure(page, "recall") == "100.0%"
    page.get_by_role("button", name="Apply threshold…").click()
    dialog = page.get_by_role("dialog", name="Apply this threshold?")
    assert "target recall 1" in dialog.inner_text()
    signed_in.shoot("model-apply")
    dialog.get_by_role("button", name="Apply").click()
    page.locator("#history table").wait_for()

    lv = live.boto3_client()
    evaluation = lv.describe_model_evaluation(ProjectName=PROJECT, ModelVersion="1")
    assert evaluation["ThresholdPolicy"] == {"Policy": "TARGET_RECALL", "Value": 1.0}
    assert evaluation["Performance"]["Recall"] == 1.0
    history = lv.list_threshold_history(ProjectName=PROJECT, ModelVersion="1")["Changes"]
    assert [change["Policy"]["Policy"] for change in history] == ["TARGET_RECALL"]
    assert page.locator("#threshold-value").inner_text() == f"{evaluation['Threshold']:.3f}"
    expect(page.locator("#intervals")).to_contain_text("95.0% intervals at the threshold in use: precision")
    signed_in.shoot("model-applied")

    # With a confidence the service bounds the target: recall >= 1 can never be claimed, so it is refused, unchanged.
    page.get_by_label("Confidence", exact=True).fill("0.9")
    page.get_by_role("button", name="Move the slider to the target recall").click()
    page.get_by_role("button", name="Apply threshold…").click()
    assert "90.0% confidence" in dialog.inner_text()
    dialog.get_by_role("button", name="Apply").click()
    expect(page.locator("#toast")).to_contain_text("no finite test set supports recall >= 1 at 90 % confidence")
    signed_in.forget_refusal(400)
    assert lv.describe_model_evaluation(ProjectName=PROJECT, ModelVersion="1")["ThresholdPolicy"] == {
        "Policy": "TARGET_RECALL",
        "Value": 1.0,
    }
    page.get_by_label("Confidence", exact=True).fill("")
    signed_in.assert_clean()


def test_hosting_try_it_and_detections(signed_in: Tab, live: LiveServer, tmp_path: Path) -> None:
    page = signed_in.page
    signed_in.goto(f"/console/projects/{PROJECT}/detections")
    page.get_by_text("No detections").wait_for()
    signed_in.shoot("detections-empty")
    signed_in.goto(f"/console/projects/{PROJECT}/hosting")
    page.get_by_text("No hosted model yet").wait_for()
    page.get_by_label("Maximum inference units for version 1").fill("1")
    page.get_by_role("button", name="Start hosting version 1").click()
    page.locator('tr[data-version="1"] .badge', has_text="hosted").wait_for(timeout=60_000)
    assert (
        live.boto3_client().describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]["Status"]
        == "HOSTED"
    )

    defect = next(live.context.store.list("incoming/widgets/test/crack/"))
    sample = tmp_path / "sample.png"
    sample.write_bytes(live.context.store.get(defect))
    page.get_by_label("Choose an image to try").set_input_files(str(sample))
    verdict = page.locator("#verdict")
    verdict.wait_for()
    assert verdict.inner_text() in {"Anomaly", "Normal"}
    assert "confidence" in page.locator("#confidence").inner_text()
    named = page.locator("#classes li").all_inner_texts()
    anomalous = verdict.inner_text() == "Anomaly"
    # The imported set's one defect folder is its anomaly class: the answer names it.
    assert len(named) == int(anomalous) and all(text.startswith("crack · ") for text in named), named
    page.get_by_label("Anomaly mask").check()
    page.get_by_role("img", name="Anomaly mask").wait_for()
    page.wait_for_function(
        "(() => { const img = document.querySelector('img.heat'); return img && img.complete && img.naturalWidth === 64; })()"
    )
    signed_in.shoot("hosting")

    signed_in.goto(f"/console/projects/{PROJECT}/detections")
    page.locator("#detections tbody tr").first.wait_for()
    assert page.locator("#detections tbody tr").count() == 1
    stored = page.request.get(live.url + page.get_by_role("link", name="view", exact=True).get_attribute("href"))
    assert stored.ok and stored.headers["content-type"] == "image/png" and stored.body() == sample.read_bytes()
    page.locator("#timeline canvas").first.wait_for()
    signed_in.shoot("detections")

    signed_in.goto(f"/console/projects/{PROJECT}/hosting")
    page.get_by_role("button", name="Stop hosting version 1").click()
    page.locator('tr[data-version="1"] .badge', has_text="trained").wait_for(timeout=60_000)
    signed_in.assert_clean()


def test_pages_fit_a_tablet(browser: Any, live: LiveServer, screenshots: Path) -> None:
    context = browser.new_context(viewport=TABLET)
    tab = Tab(context, live.url, screenshots)
    tab.goto("/console/sign-in")
    tab.page.get_by_label("Access key id").fill(live.access_key_id)
    tab.page.get_by_label("Secret access key").fill(live.secret_access_key)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url("**/console/projects")
    for name, path in [
        ("projects", "/console/projects"),
        ("project", f"/console/projects/{PROJECT}"),
        ("training", f"/console/projects/{PROJECT}/training"),
        ("model", f"/console/projects/{PROJECT}/models/1"),
        ("hosting", f"/console/projects/{PROJECT}/hosting"),
        ("detections", f"/console/projects/{PROJECT}/detections"),
    ]:
        tab.goto(path)
        tab.page.wait_for_load_state("networkidle")
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 768 px screen"
        assert tab.page.evaluate(UNNAMED_CONTROLS) == [], f"controls without an accessible name on {path}"
        tab.shoot(f"tablet-{name}")
    context.close()
    tab.assert_clean()


def test_screenshots_are_images(screenshots: Path) -> None:
    require_chromium()  # the flows above, which take the screenshots, skip without it
    shots = sorted(screenshots.glob("*.png"))
    assert len(shots) >= 12
    for shot in shots:
        with Image.open(io.BytesIO(shot.read_bytes())) as image:
            assert image.width in (DESKTOP["width"], TABLET["width"])

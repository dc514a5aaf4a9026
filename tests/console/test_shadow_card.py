"""The hosting page's shadow card in headless Chromium against a live server: an admin runs version 2 in the shadow of
version 1, sees the comparison of four detections, promotes (the card then names version 2 live) and stops the
shadow. Photographed at 1280x800 and 768 px; no browser error."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.test_hosting import TinyModel
from tests.conftest import make_settings
from tests.console.browser import DESKTOP, TABLET, Tab, launched
from tests.console.test_console_flow import UNNAMED_CONTROLS
from tests.helpers.live_server import LiveServer, run_live_server
from tests.hosting.models import add_trained_model, tiny_candidate, tiny_model, wait_for_status
from tests.review.conftest import images

__all__ = ["tiny_candidate", "tiny_model"]
PROJECT = "bearings"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(make_settings(tmp_path_factory.mktemp("lv-shadow-console"))) as server:
        yield server


@pytest.fixture(scope="module")
def hosted(live: LiveServer, tiny_model: TinyModel, tiny_candidate: TinyModel) -> Any:
    lv = live.boto3_client()
    lv.create_project(ProjectName=PROJECT)
    add_trained_model(live, PROJECT, tiny_model[0], version=1)
    add_trained_model(live, PROJECT, tiny_candidate[0], version=2)
    for version in ("1", "2"):
        lv.start_model(ProjectName=PROJECT, ModelVersion=version, MinInferenceUnits=1)
    for version in ("1", "2"):
        wait_for_status(lv, PROJECT, version, "HOSTED")
    return lv


def test_the_shadow_card_starts_compares_promotes_and_stops(
    live: LiveServer, hosted: Any, tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = Path(os.environ.get("LV_CONSOLE_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    with launched() as browser:
        tab = Tab(browser.new_context(viewport=DESKTOP), live.url, folder)
        tab.goto("/")
        tab.page.get_by_label("Access key id").fill(live.access_key_id)
        tab.page.get_by_label("Secret access key").fill(live.secret_access_key)
        tab.page.get_by_role("button", name="Sign in").click()
        tab.page.wait_for_url("**/console/**")
        tab.goto(f"/console/projects/{PROJECT}/hosting")
        page = tab.page
        card = page.get_by_role("region", name="Shadow model")
        expect(card.get_by_label("Candidate version (the shadow)")).to_have_value("2")
        expect(card.get_by_label("Live version it shadows")).to_have_value("1")
        card.get_by_role("button", name="Start shadow").click()
        expect(page.locator("#shadow-pair")).to_contain_text("Version 2 runs in the shadow of live version 1")

        for body in images(tiny_model, 4):
            hosted.detect_anomalies(ProjectName=PROJECT, ModelVersion="1", Body=body, ContentType="image/png")
        expected = hosted.describe_shadow_comparison(ProjectName=PROJECT, ModelVersion="1")
        card.get_by_role("button", name="Refresh").click()
        expect(page.locator("#shadow-compared .value")).to_have_text("4")
        agreement = f"{100 * expected['AgreementRate']:.1f}%"
        expect(page.locator("#shadow-agreement .value")).to_have_text(agreement)
        assert page.evaluate(UNNAMED_CONTROLS) == []
        tab.shoot("hosting-shadow")
        page.set_viewport_size(TABLET)
        tab.shoot("hosting-shadow-tablet")
        page.set_viewport_size(DESKTOP)

        card.get_by_role("button", name="Promote version 2").click()
        expect(page.locator("#shadow-pair")).to_contain_text("Version 1 runs in the shadow of live version 2")
        assert hosted.describe_model(ProjectName=PROJECT, ModelVersion="1")["ModelDescription"]["ShadowPair"] == {
            "LiveModelVersion": "2",
            "ShadowModelVersion": "1",
        }
        card.get_by_role("button", name="Stop shadow").click()
        expect(page.locator("#toast")).to_contain_text("Shadow stopped; version 1 is stopping.")
        wait_for_status(hosted, PROJECT, "1", "TRAINED")
        tab.assert_clean()
    hosted.stop_model(ProjectName=PROJECT, ModelVersion="2")
    wait_for_status(hosted, PROJECT, "2", "TRAINED")

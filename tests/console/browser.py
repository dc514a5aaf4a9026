"""Headless Chromium for console tests: Debian's `chromium` driven by Playwright, with browser errors collected."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("LV_TEST_CHROMIUM", "/usr/bin/chromium"))
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")


@contextmanager
def launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


class Tab:
    """A browser page that records console errors, failed requests and uncaught exceptions."""

    def __init__(self, context: Any, base_url: str, screenshots: Path) -> None:
        self.page = context.new_page()
        self.base_url = base_url
        self.screenshots = screenshots
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def shoot(self, name: str) -> Path:
        """A full-page screenshot; a passing toast is dismissed first so it covers nothing."""
        self.page.evaluate("document.getElementById('toast')?.setAttribute('hidden', '')")
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def forget_refusal(self, status: int) -> None:
        """Drop the one console line Chromium logs for a request the test made the service refuse on purpose."""
        line = next(error for error in self.errors if f"status of {status}" in error)
        self.errors.remove(line)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors

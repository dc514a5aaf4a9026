"""Console tests: a screenshot of the shared tab when a test fails, beside the page screenshots."""

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if report.when == "call" and report.failed and "signed_in" in getattr(item, "funcargs", {}):
        tab = item.funcargs["signed_in"]
        shot = tab.shoot(f"failed-{item.name}")
        report.sections.append(("console", f"screenshot: {shot}\nbrowser errors: {tab.errors}"))
    return report

"""The recorded-wire boto3 client (`tests.aws.wire`) as fixtures: `client` makes one attempt per call."""

from typing import Any

import pytest

from tests.aws.wire import Wire, make_client


@pytest.fixture
def client() -> Any:
    return make_client(retries={"total_max_attempts": 1})


@pytest.fixture
def wire(client: Any) -> Wire:
    return Wire(client)

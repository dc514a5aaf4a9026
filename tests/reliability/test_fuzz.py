"""Generated requests for every operation, from the OpenAPI document and from the botocore service model: no 5xx.

A few examples per operation keep this in the suite's budget; `bench/fuzz.py` runs the same fuzzers for longer.
"""

import os

import httpx

from tests.helpers.fuzzing import FuzzReport, SigV4, describe, fuzz_openapi, fuzz_service_model
from tests.helpers.live_server import LiveServer

EXAMPLES = int(os.environ.get("LV_TEST_FUZZ_EXAMPLES", "8"))


def openapi_document(server: LiveServer) -> dict:
    response = httpx.get(f"{server.url}/openapi.json", auth=None, headers=_signed(server, "/openapi.json"))
    response.raise_for_status()
    return response.json()


def _signed(server: LiveServer, path: str) -> dict[str, str]:
    import requests

    prepared = requests.Request("GET", f"{server.url}{path}").prepare()
    return dict(SigV4(server)(prepared).headers)


def test_openapi_operations_never_answer_5xx(server: LiveServer) -> None:
    report = FuzzReport()
    fuzz_openapi(server, openapi_document(server), examples=EXAMPLES, report=report)
    assert len({operation for operation, _ in report.answers}) >= 30
    assert report.findings == [], "\n".join(describe(report))


def test_service_model_operations_never_answer_5xx(server: LiveServer) -> None:
    report = FuzzReport()
    fuzz_service_model(server, examples=EXAMPLES, report=report)
    assert len({operation for operation, _ in report.answers}) >= 20
    assert report.findings == [], "\n".join(describe(report))

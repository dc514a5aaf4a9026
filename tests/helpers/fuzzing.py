"""Fuzzing a live server: every operation of its OpenAPI document (schemathesis) and every operation of openlv's
botocore service model (hypothesis strategies built from the model's shapes, sent by boto3), signed with SigV4.

Both enumerate operations from the documents, so operations added later are fuzzed without a hand-written list.
A run counts answers by status class; a 5xx, or a connection the server dropped, is a finding. Used by
tests/reliability/test_fuzz.py (few examples per operation) and bench/fuzz.py (many).
"""

import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import hypothesis.strategies as st
import requests
import schemathesis
from botocore.config import Config
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings

from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

_SIGNED_HEADERS = ("content-type",)
_TEXT = st.text(string.ascii_letters + string.digits + "-_:/.\n %", max_size=40)


@dataclass
class FuzzReport:
    """Answers by operation and status class; `findings` holds (operation, what was sent, what came back)."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    findings: list[tuple[str, str, str]] = field(default_factory=list)

    def record(self, operation: str, status: int | None, sent: str, answer: str) -> None:
        status_class = "dropped" if status is None else f"{status // 100}xx"
        self.answers[(operation, status_class)] += 1
        if status is None or status >= 500:
            self.findings.append((operation, sent[:500], answer[:500]))

    def totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (_, status_class), count in self.answers.items():
            totals[status_class] += count
        return totals


class SigV4(requests.auth.AuthBase):
    """Signs a prepared `requests` request (its final body) as boto3 would."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        signed = {name: value for name, value in request.headers.items() if name.lower() in _SIGNED_HEADERS}
        request.headers.update(
            signed_headers(
                request.method or "GET",
                request.url or "",
                body=body,
                headers=signed,
                access_key_id=self.server.access_key_id,
                secret_access_key=self.server.secret_access_key,
                region=self.server.settings.region,
            )
        )
        return request


def fuzz_openapi(server: LiveServer, document: dict[str, Any], *, examples: int, report: FuzzReport) -> None:
    """Every operation of the OpenAPI document with `examples` generated requests each."""
    schema = schemathesis.openapi.from_dict(document)
    auth = SigV4(server)
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"

        def call(case: Any, name: str = name) -> None:
            try:
                response = case.call(base_url=server.url, auth=auth, timeout=60)
            except requests.ConnectionError as exc:
                report.record(name, None, repr(case), repr(exc))
                return
            report.record(name, response.status_code, f"{case.path_parameters} {case.query} {case.body}", response.text)

        run_examples(operation.as_strategy(), examples, call)


def fuzz_service_model(server: LiveServer, *, examples: int, report: FuzzReport) -> None:
    """Every operation of the botocore service model, its input drawn from its shapes and sent by boto3 with
    client-side validation off, so out-of-range values reach the server."""
    client = server.boto3_client(
        config=Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60)
    )
    model = client.meta.service_model
    for operation_name in model.operation_names:
        operation = model.operation_model(operation_name)
        method = getattr(client, botocore_method_name(operation_name))
        strategy = shape_strategy(operation.input_shape) if operation.input_shape is not None else st.just({})

        def call(arguments: dict[str, Any], name: str = operation_name, method: Any = method) -> None:
            try:
                response = method(**arguments)
                status = response["ResponseMetadata"]["HTTPStatusCode"]
                report.record(name, status, repr(arguments), "")
            except botocore.exceptions.ClientError as exc:
                report.record(name, exc.response["ResponseMetadata"]["HTTPStatusCode"], repr(arguments), str(exc))
            except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
                if "Invalid header value" not in str(exc):  # refused by the client's HTTP library: never sent
                    report.record(name, None, repr(arguments), repr(exc))
            except (botocore.exceptions.ParamValidationError, ValueError, TypeError):
                pass  # botocore could not serialise the drawn value at all: nothing was sent

        run_examples(strategy, examples, call)


def run_examples(strategy: st.SearchStrategy[Any], examples: int, call: Callable[[Any], None]) -> None:
    """`call` on `examples` values drawn from `strategy` (hypothesis shrinks nothing: `call` records, never raises)."""

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def run(value: Any) -> None:
        call(value)

    run()


def botocore_method_name(operation_name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in operation_name).lstrip("_")


def shape_strategy(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for a botocore shape: mostly valid (its enum, length and range), sometimes just outside them."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if depth > 4:
            return st.just({})
        members = shape.members
        required = set(shape.required_members)
        return st.fixed_dictionaries(
            {name: shape_strategy(members[name], depth + 1) for name in members if name in required},
            optional={name: shape_strategy(members[name], depth + 1) for name in members if name not in required},
        )
    if kind == "list":
        return st.lists(shape_strategy(shape.member, depth + 1), max_size=min(int(meta.get("max", 4)), 4))
    if kind == "map":
        return st.dictionaries(shape_strategy(shape.key, depth + 1), shape_strategy(shape.value, depth + 1), max_size=3)
    if kind == "string":
        if shape.enum:
            return st.one_of(st.sampled_from(shape.enum), _TEXT)
        low, high = int(meta.get("min", 0)), int(meta.get("max", 64))
        fitting = st.text(string.ascii_letters + string.digits + "-_", min_size=low, max_size=max(low, min(high, 64)))
        return st.one_of(fitting, _TEXT, st.text(max_size=8))
    if kind in ("integer", "long"):
        low, high = int(meta.get("min", -(2**31))), int(meta.get("max", 2**31))
        return st.one_of(st.integers(low, high), st.integers(-(2**63), 2**63 - 1))
    if kind in ("float", "double"):
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1)).map(
            lambda value: value.replace(tzinfo=UTC)
        )
    if kind == "blob":
        return st.one_of(st.binary(max_size=256), st.just(b"\x89PNG\r\n\x1a\n" + bytes(64)))
    return st.none()


def describe(report: FuzzReport) -> Iterator[str]:
    totals = report.totals()
    yield ", ".join(f"{status_class}: {count}" for status_class, count in sorted(totals.items()))
    for operation, sent, answer in report.findings[:20]:
        yield f"{operation}: sent {sent!r} -> {answer!r}"

"""The shadow runner on a real embedded backend: copies run on the shadow's own units, results are written in the
background, and shadow work is dropped and counted (never waited for) when the live model is busy or the shadow full."""

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from service.hosting.autoscaling import ScalingPolicy
from service.hosting.backend import DeploymentSpec, InferenceRequest, Prediction
from service.hosting.embedded import EmbeddedBackend
from service.hosting.shadow import ShadowCounts, ShadowRoute, ShadowRunner
from tests.hosting.predictors import BrightnessPredictor, dark_image

ROUTE = ShadowRoute(
    shadow_id=7, live_model_id=1, shadow_model_id=2, live_key="live", shadow_key="shadow", sample_percent=100.0
)
Written = tuple[float, float]


class Fixture:
    def __init__(self) -> None:
        self.live_gate, self.shadow_gate = threading.Event(), threading.Event()
        self.live_gate.set()
        self.shadow_gate.set()
        self.predictors = {
            "live": BrightnessPredictor(self.live_gate),
            "shadow": BrightnessPredictor(self.shadow_gate),
        }
        self.backend = EmbeddedBackend(
            lambda directory, _threads, _runtime: self.predictors[directory.name],
            cpu_cores=2,
            queue_per_unit=1,
            max_batch=1,
            scale_interval_s=60.0,
            policy=ScalingPolicy(),
        )
        for key in ("live", "shadow"):
            self.backend.start(DeploymentSpec(key=key, artifacts_dir=Path(key), min_units=1, max_units=1))
        self.written: list[Written] = []
        self.runner: ShadowRunner[Written] = ShadowRunner(self.backend, self.write)

    def write(self, records: Sequence[Written]) -> None:
        self.written.extend(records)

    def run(self, runner: ShadowRunner[Written] | None = None, route: ShadowRoute = ROUTE) -> bool:
        request = InferenceRequest(dark_image(32, patch=8), image_threshold=0.5)
        return (runner or self.runner).run(route, request, lambda p, ms: (p.score, ms))


@pytest.fixture
def setup() -> Iterator[Fixture]:
    fixture = Fixture()
    yield fixture
    fixture.live_gate.set()
    fixture.shadow_gate.set()
    fixture.runner.close()
    fixture.backend.close()


def test_a_copy_runs_on_the_shadow_units_and_its_result_is_written(setup: Fixture) -> None:
    assert setup.run() is True
    assert setup.runner.flush(timeout=10)
    ((score, latency_ms),) = setup.written
    assert score == pytest.approx(250 / 255) and latency_ms > 0
    assert setup.predictors["shadow"].batch_sizes == [1] and setup.predictors["live"].batch_sizes == []
    assert setup.runner.take_counts() == {}


def test_shadow_work_is_dropped_and_counted_while_the_live_model_has_requests_waiting(setup: Fixture) -> None:
    setup.live_gate.clear()
    request = InferenceRequest(dark_image(32), image_threshold=0.5)
    held = setup.backend.submit("live", request)
    assert setup.predictors["live"].entered.acquire(timeout=10)
    waiting = setup.backend.submit("live", request)
    assert setup.run() is False
    assert setup.runner.take_counts() == {7: ShadowCounts(dropped=1)}
    assert setup.predictors["shadow"].batch_sizes == []
    setup.live_gate.set()
    assert isinstance(held.result(timeout=10), Prediction) and isinstance(waiting.result(timeout=10), Prediction)


def test_a_full_shadow_queue_drops_without_waiting(setup: Fixture) -> None:
    wide: ShadowRunner[Written] = ShadowRunner(setup.backend, setup.write, max_in_flight=10)
    setup.shadow_gate.clear()
    try:
        assert setup.run(wide) is True
        assert setup.predictors["shadow"].entered.acquire(timeout=10)
        assert setup.run(wide) is True  # the one place in the shadow's queue
        started = time.perf_counter()
        for _ in range(20):
            setup.run(wide)
        assert time.perf_counter() - started < 0.5, "handing work to a full shadow must not wait"
        assert wide.take_counts() == {7: ShadowCounts(dropped=20)}
        live = setup.backend.submit("live", InferenceRequest(dark_image(32), image_threshold=0.5))
        assert live.result(timeout=10).is_anomalous is False, "the live model answers while its shadow is saturated"
        setup.shadow_gate.set()
        assert wide.flush(timeout=10) and len(setup.written) == 2
    finally:
        wide.close()


def test_by_default_one_copy_runs_at_a_time_and_the_rest_wait_in_a_bounded_queue(setup: Fixture) -> None:
    setup.shadow_gate.clear()
    assert setup.run() is True
    assert setup.predictors["shadow"].entered.acquire(timeout=10)
    assert [setup.run() for _ in range(17)] == [True] * 16 + [False], "16 wait, the 17th is dropped"
    assert setup.runner.take_counts() == {7: ShadowCounts(dropped=1)}
    setup.shadow_gate.set()
    assert setup.runner.flush(timeout=30) and len(setup.written) == 17
    assert setup.predictors["shadow"].batch_sizes == [1] * 17, "one copy at a time"


def test_the_sample_percent_decides_which_requests_are_copied(setup: Fixture) -> None:
    draws = iter([0.1, 0.6, 0.2, 0.9])
    sampled: ShadowRunner[Written] = ShadowRunner(setup.backend, setup.write, draw=lambda: next(draws))
    half = ShadowRoute(**{**ROUTE.__dict__, "sample_percent": 50.0})
    try:
        outcomes = []
        for _ in range(4):
            outcomes.append(setup.run(sampled, half))
            assert sampled.flush(timeout=10)
        assert outcomes == [True, False, True, False] and len(setup.written) == 2
        assert sampled.take_counts() == {}, "requests left out of the sample are not drops"
    finally:
        sampled.close()


def test_routes_name_the_pair_from_either_model_and_swap_whole() -> None:
    backend = EmbeddedBackend(
        lambda directory, _threads, _runtime: BrightnessPredictor(),
        cpu_cores=1,
        queue_per_unit=1,
        max_batch=1,
        scale_interval_s=60.0,
        policy=ScalingPolicy(),
    )
    runner: ShadowRunner[Written] = ShadowRunner(backend, lambda records: None)
    try:
        runner.set_route(ROUTE)
        assert runner.route(1) is runner.route(2) is ROUTE and runner.route(3) is None
        swapped = ShadowRoute(
            7, live_model_id=2, shadow_model_id=1, live_key="shadow", shadow_key="live", sample_percent=100.0
        )
        runner.set_route(swapped)
        assert runner.route(1) is runner.route(2) is swapped
        runner.remove_route(7)
        assert runner.route(1) is None and runner.route(2) is None
    finally:
        runner.close()
        backend.close()

"""The unit pool: answers, micro-batches, throttles when full, never hangs, scales with load."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

from service.hosting.autoscaling import ScalingPolicy
from service.hosting.backend import DeploymentError, InferenceRequest, NotDeployed, Overloaded
from service.hosting.pool import PoolOptions, UnitPool
from tests.hosting.predictors import BrightnessPredictor, dark_image

QUICK = ScalingPolicy(up_utilisation=0.75, down_utilisation=0.25, down_after_s=0.0)


def make_pool(predictor: BrightnessPredictor, *, min_units: int = 1, max_units: int = 1, queue: int = 4, **kw: object):
    options = PoolOptions(queue_capacity=queue, max_batch=8, policy=QUICK)
    pool = UnitPool("test", lambda: predictor, min_units=min_units, max_units=max_units, options=options, **kw)
    pool.start()
    return pool


def test_a_defect_is_found_where_it_is_and_a_clean_image_passes() -> None:
    pool = make_pool(BrightnessPredictor())
    try:
        defect = pool.submit(InferenceRequest(dark_image(64, patch=16), image_threshold=0.5)).result(timeout=10)
        clean = pool.submit(InferenceRequest(dark_image(64), image_threshold=0.5)).result(timeout=10)
    finally:
        pool.stop()
    assert defect.is_anomalous and not clean.is_anomalous
    assert defect.anomaly_fraction == pytest.approx(16 * 16 / (64 * 64))
    assert clean.anomaly_fraction == 0.0
    mask = np.asarray(Image.open(io.BytesIO(defect.mask_png)).convert("RGB"))
    assert mask.shape == (64, 64, 3)
    assert (mask[32, 32] == [255, 0, 0]).all() and (mask[0, 0] == [255, 255, 255]).all()
    assert 0.5 < defect.confidence <= 1.0 and 0.5 < clean.confidence <= 1.0


def test_the_threshold_of_each_request_decides_its_verdict() -> None:
    pool = make_pool(BrightnessPredictor())
    image = dark_image(64, patch=8)
    try:
        strict = pool.submit(InferenceRequest(image, image_threshold=0.99)).result(timeout=10)
        lenient = pool.submit(InferenceRequest(image, image_threshold=0.5)).result(timeout=10)
    finally:
        pool.stop()
    assert strict.score == lenient.score
    assert lenient.is_anomalous and not strict.is_anomalous


def test_waiting_requests_of_one_size_run_as_one_batch() -> None:
    gate = threading.Event()
    predictor = BrightnessPredictor(gate)
    pool = make_pool(predictor, queue=8)
    try:
        first = pool.submit(InferenceRequest(dark_image(64), 0.5))
        assert predictor.entered.acquire(timeout=10)
        rest = [pool.submit(InferenceRequest(dark_image(64), 0.5)) for _ in range(5)]
        odd = pool.submit(InferenceRequest(dark_image(96), 0.5))
        gate.set()
        for future in [first, *rest, odd]:
            future.result(timeout=10)
    finally:
        pool.stop()
    assert predictor.batch_sizes == [1, 5, 1]


def test_a_full_queue_throttles_at_once_with_a_retry_estimate() -> None:
    gate = threading.Event()
    predictor = BrightnessPredictor(gate)
    pool = make_pool(predictor, queue=1)
    try:
        running = pool.submit(InferenceRequest(dark_image(), 0.5))
        assert predictor.entered.acquire(timeout=10)
        waiting = pool.submit(InferenceRequest(dark_image(), 0.5))
        with pytest.raises(Overloaded) as refused:
            pool.submit(InferenceRequest(dark_image(), 0.5))
        assert refused.value.retry_after_s >= 1
        gate.set()
        assert not running.result(timeout=10).is_anomalous
        assert not waiting.result(timeout=10).is_anomalous
    finally:
        pool.stop()


def test_stopping_fails_waiting_requests_instead_of_leaving_them_hanging() -> None:
    gate = threading.Event()
    predictor = BrightnessPredictor(gate)
    pool = make_pool(predictor, queue=4)
    running = pool.submit(InferenceRequest(dark_image(), 0.5))
    assert predictor.entered.acquire(timeout=10)
    waiting = pool.submit(InferenceRequest(dark_image(), 0.5))
    threading.Timer(0.2, gate.set).start()
    pool.stop()
    assert running.result(timeout=10) is not None
    with pytest.raises(NotDeployed):
        waiting.result(timeout=10)
    with pytest.raises(NotDeployed):
        pool.submit(InferenceRequest(dark_image(), 0.5))


def test_units_are_added_under_load_and_removed_when_idle() -> None:
    now = [0.0]
    gate = threading.Event()
    predictor = BrightnessPredictor(gate)
    pool = make_pool(predictor, min_units=1, max_units=2, queue=8, clock=lambda: now[0])
    try:
        busy = pool.submit(InferenceRequest(dark_image(), 0.5))
        assert predictor.entered.acquire(timeout=10)
        queued = pool.submit(InferenceRequest(dark_image(), 0.5))
        now[0] += 1.0
        assert pool.autoscale() == 2
        gate.set()
        busy.result(timeout=10), queued.result(timeout=10)
        assert pool.status().current_units == 2
        now[0] += 1.0
        pool.autoscale()
        now[0] += 1.0
        assert pool.autoscale() == 1
        assert pool.current_units == 1
        assert not pool.submit(InferenceRequest(dark_image(), 0.5)).result(timeout=10).is_anomalous
    finally:
        pool.stop()


def test_a_model_that_cannot_load_fails_the_start_with_its_reason() -> None:
    def broken() -> BrightnessPredictor:
        raise DeploymentError("model.onnx is not an ONNX file")

    pool = UnitPool("broken", broken, min_units=2, max_units=2, options=PoolOptions(2, 8, QUICK))
    with pytest.raises(DeploymentError, match="not an ONNX file"):
        pool.start()

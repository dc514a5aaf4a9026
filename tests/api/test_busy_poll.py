"""The event loop keeps polling for its window after a DetectAnomalies answer, and never while one is served."""

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

from service.api.busy_poll import BusyPoll
from service.settings import Settings
from tests.api.test_hosting import TinyModel, detect
from tests.helpers.live_server import run_live_server
from tests.hosting.models import (
    encode,
    host_trained_model,
    normal_pixels,
    tiny_model,
)

__all__ = ["tiny_model"]

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
RUNNERS = [pytest.param(asyncio.run, id="asyncio"), pytest.param(uvloop.run, id="uvloop")]


@pytest.mark.parametrize("run", RUNNERS)
def test_polls_for_its_window_after_an_answer_then_sleeps(run: Runner) -> None:
    async def scenario() -> float:
        poll = BusyPoll(0.05)
        with poll.serving():
            assert not poll.polling
        assert poll.polling
        began = time.perf_counter()
        while poll.polling:
            await asyncio.sleep(0.002)
        return time.perf_counter() - began

    assert 0.04 <= run(scenario()) < 1.0


@pytest.mark.parametrize("run", RUNNERS)
def test_the_loop_stays_on_its_core_only_while_polling(run: Runner) -> None:
    """Busy in the window (the loop thread's CPU time grows with the wall clock); asleep with a window of 0."""

    async def loop_cpu_over(window_s: float) -> float:
        poll = BusyPoll(window_s)
        began = time.thread_time()
        with poll.serving():
            pass
        await asyncio.sleep(0.1)
        return time.thread_time() - began

    assert run(loop_cpu_over(0.1)) > 0.03
    assert run(loop_cpu_over(0.0)) < 0.01


@pytest.mark.parametrize("run", RUNNERS)
def test_no_polling_while_another_request_is_served(run: Runner) -> None:
    async def scenario() -> None:
        poll = BusyPoll(1.0)
        with poll.serving():
            with poll.serving():
                pass
            await asyncio.sleep(0.01)
            assert not poll.polling
        assert poll.polling
        with poll.serving():
            await asyncio.sleep(0.01)
            assert not poll.polling

    run(scenario())


def test_detect_anomalies_opens_the_window_and_other_calls_do_not(tmp_path: Path, tiny_model: TinyModel) -> None:
    with run_live_server(Settings(home=tmp_path / "home", hosting_busy_poll_s=0.5)) as server:
        lv = server.boto3_client()
        lv.create_project(ProjectName="busy-poll")
        host_trained_model(server, lv, "busy-poll", tiny_model[0])
        assert server.app is not None
        poll = server.app.state.busy_poll
        assert not poll.polling

        detect(lv, "busy-poll", encode(normal_pixels(tiny_model[1][0])))

        assert poll.polling
        time.sleep(0.8)
        assert not poll.polling

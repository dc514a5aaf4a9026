"""How long an event loop takes to resume once another thread hands it an answer, and what waking it early saves.

A hosting unit answers DetectAnomalies from its own thread; the event loop that waits for it has slept through the
whole run. On a VM, a thread whose core has idled for a run's 15 ms wakes slowly (the hypervisor has to schedule the
halted vCPU again), much more slowly than after a short nap. This measures, on uvloop as the service runs it, the time
from `call_soon_threadsafe` in the worker to the awaiting coroutine running again, when the worker has:

* slept 15 ms (both threads idle: the kernel wakes the loop where the worker runs),
* computed 14.4 ms with the GIL released (as ONNX Runtime does), then 0.6 ms in Python (post-processing, the mask),
* done the same and woken the loop between the two: an early wake-up a unit could send once its graph has answered.
  Tried in the service (a hook between the graph and post-processing): the DetectAnomalies `wait` stage stayed at
  0.36 ms either way, so the service does not do it.

    .venv/bin/python bench/wake_latency.py [--rounds 200] [--json wake.json]
"""

import argparse
import asyncio
import hashlib
import json
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvloop

RUN_S = 0.015
EARLY_S = 0.0006
_DATA = bytes(256 * 1024)


def _compute(seconds: float) -> None:
    """Busy for `seconds` with the GIL mostly released (hashing large buffers), like a graph run."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hashlib.sha256(_DATA)


def _post_process(seconds: float) -> None:
    """Busy for `seconds` in Python, holding the GIL, like post-processing and the mask."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def _sleep_run(wake: Callable[[], object]) -> None:
    del wake
    time.sleep(RUN_S)


def _compute_run(wake: Callable[[], object]) -> None:
    del wake
    _compute(RUN_S - EARLY_S)
    _post_process(EARLY_S)


def _compute_run_waking_early(wake: Callable[[], object]) -> None:
    _compute(RUN_S - EARLY_S)
    wake()
    _post_process(EARLY_S)


SCENARIOS: dict[str, Callable[[Callable[[], object]], None]] = {
    "worker slept 15 ms": _sleep_run,
    "worker ran a graph, then post-processed": _compute_run,
    "the same, waking the loop before post-processing": _compute_run_waking_early,
}


async def _measure(run: Callable[[Callable[[], object]], None], rounds: int) -> list[float]:
    """Microseconds from the worker's hand-off to the awaiting coroutine resuming, one per round."""
    loop = asyncio.get_running_loop()
    jobs: queue.Queue[asyncio.Future[float] | None] = queue.Queue()

    def worker() -> None:
        while (answer := jobs.get()) is not None:
            run(lambda: loop.call_soon_threadsafe(lambda: None))
            loop.call_soon_threadsafe(answer.set_result, time.perf_counter())

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    delays = []
    for _ in range(rounds):
        answer: asyncio.Future[float] = loop.create_future()
        jobs.put(answer)
        handed_off = await answer
        delays.append(1e6 * (time.perf_counter() - handed_off))
        await asyncio.sleep(0.003)  # the client's turn: the loop goes idle between requests, as in the service
    jobs.put(None)
    thread.join()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = []
    for name, run in SCENARIOS.items():
        delays = uvloop.run(_measure(run, args.rounds))[10:]
        quartiles = statistics.quantiles(delays, n=4)
        rows.append({"scenario": name, "p25_us": quartiles[0], "p50_us": quartiles[1], "p75_us": quartiles[2]})
    print("| hand-off to the loop | p25 us | p50 us | p75 us |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['scenario']} | {row['p25_us']:.0f} | {row['p50_us']:.0f} | {row['p75_us']:.0f} |")
    result = {"rounds": args.rounds, "rows": rows, "platform": {"python": sys.version.split()[0]}}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

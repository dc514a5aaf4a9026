"""The c=1 latency and CPU figures measured as pairs: blocks of raw `predict_image` calls and of DetectAnomalies
requests alternate in one run, and each side's p50 (and CPU ms per image) is taken over all of its blocks.

A shared VM's speed drifts by 10-20 % over a minute (other tenants, frequency); a raw row measured a minute before
or after the service row then decides the ratio more than the service does. Alternating short blocks puts both sides
under the same drift, so their ratio is the service's own cost.

Each round has two raw blocks around the service block (whose CPU is the server process's, from /proc): one on ORT's
default session before it (the latency baseline: its threads keep spinning between runs, the fastest and most
CPU-hungry setting), one on a session that spins as the hosting units do after it (`HOSTING_SPINNING`, the CPU
baseline).

The c=16 throughput is paired the same way (`paired_c16`): blocks of the raw graph on batches of 16 alternate with
blocks of as many DetectAnomalies requests at concurrency 16, and each side's images/s is its images over its time in
all blocks: a slow stretch of the VM (one 0.9-1.2 s batch among 220 ms ones was seen) then weighs on both sides
instead of on whichever was measured in it."""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.serving_load import Prepared, process_cpu_seconds, send
from service.engine.inference import OnnxInferencer
from service.hosting.predictor import HOSTING_SPINNING

ROUNDS = 8
SETTLE_S = 0.1
"""Pause after a block on ORT's default session: its idle threads go on spinning for ~30 ms after the last run (one
core's worth), which would load whatever block came next."""


@dataclass(frozen=True)
class RawInferencers:
    """The raw side of the pair: ORT's default session for latency, one spinning as the hosting units do for CPU."""

    latency: OnnxInferencer
    cpu: OnnxInferencer

    @classmethod
    def of(cls, onnx_file: Path, cores: int, warm_with: list[bytes]) -> "RawInferencers":
        pair = cls(OnnxInferencer(onnx_file, cores), OnnxInferencer(onnx_file, cores, spinning=HOSTING_SPINNING))
        for body in warm_with[:4]:
            pair.latency.predict_image(body)
            pair.cpu.predict_image(body)
        return pair


@dataclass
class PairedRun:
    raw_latencies: list[float] = field(default_factory=list)
    service_latencies: list[float] = field(default_factory=list)
    stages: list[dict[str, float]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    raw_cpu_seconds: float = 0.0
    raw_cpu_images: int = 0
    service_cpu_seconds: float = 0.0


def paired_c1(
    raw: RawInferencers,
    bodies: list[bytes],
    port: int,
    server_pid: int,
    prepared: list[Prepared],
    *,
    rounds: int = ROUNDS,
) -> PairedRun:
    """`rounds` alternations of a raw latency block, a service block (`server_pid`'s CPU) and a raw CPU block, each a
    `len(prepared) // rounds` share, with `SETTLE_S` between the latency block and the next."""
    run = PairedRun()
    per_round = max(1, len(prepared) // rounds)
    for round_index in range(rounds):
        share = [bodies[(round_index * per_round + index) % len(bodies)] for index in range(per_round)]
        for body in share:
            begin = time.perf_counter()
            raw.latency.predict_image(body)
            run.raw_latencies.append(time.perf_counter() - begin)
        time.sleep(SETTLE_S)
        server_began = process_cpu_seconds(server_pid)
        result = send(port, prepared[round_index * per_round : (round_index + 1) * per_round], 1)
        run.service_cpu_seconds += process_cpu_seconds(server_pid) - server_began
        run.service_latencies.extend(result.latencies)
        run.stages.extend(result.stages)
        for code, count in result.errors.items():
            run.errors[code] = run.errors.get(code, 0) + count
        began = time.process_time()
        for body in share:
            raw.cpu.predict_image(body)
        run.raw_cpu_seconds += time.process_time() - began
        run.raw_cpu_images += len(share)
    return run


def paired_ratio(run: PairedRun) -> dict[str, Any]:
    """Both sides' p50 (ms) and CPU ms per image over all their blocks, and the service's over the raw."""
    raw, service = float(np.median(run.raw_latencies)), float(np.median(run.service_latencies))
    raw_cpu_ms = 1000 * run.raw_cpu_seconds / max(1, run.raw_cpu_images)
    service_cpu_ms = 1000 * run.service_cpu_seconds / max(1, len(run.service_latencies))
    return {
        "raw_p50_ms": 1000 * raw,
        "service_p50_ms": 1000 * service,
        "ratio": service / raw,
        "raw_cpu_ms_per_image": raw_cpu_ms,
        "service_cpu_ms_per_request": service_cpu_ms,
        "cpu_ratio": service_cpu_ms / raw_cpu_ms,
        "requests_per_side": len(run.service_latencies),
        "errors": run.errors,
    }


C16_ROUNDS = 6
C16_BATCHES_PER_ROUND = 8


@dataclass
class PairedThroughput:
    raw_images: int = 0
    raw_seconds: float = 0.0
    service_images: int = 0
    service_seconds: float = 0.0
    service_cpu_seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)


def paired_c16(
    raw: OnnxInferencer,
    batch: np.ndarray,
    port: int,
    server_pid: int,
    prepared: list[Prepared],
    *,
    rounds: int = C16_ROUNDS,
    batches_per_round: int = C16_BATCHES_PER_ROUND,
) -> PairedThroughput:
    """`rounds` alternations of `batches_per_round` raw runs of `batch` (the graph alone) and a service block of as
    many images at concurrency 16 from `prepared` (which must hold `rounds` such blocks), `SETTLE_S` after each raw
    block (ORT's default session spins after its last run)."""
    run = PairedThroughput()
    per_round = batches_per_round * len(batch)
    if len(prepared) < rounds * per_round:
        raise ValueError(f"paired_c16 needs {rounds * per_round} prepared requests, got {len(prepared)}")
    for round_index in range(rounds):
        began = time.perf_counter()
        for _ in range(batches_per_round):
            raw.run(batch)
        run.raw_seconds += time.perf_counter() - began
        run.raw_images += per_round
        time.sleep(SETTLE_S)
        server_began = process_cpu_seconds(server_pid)
        result = send(port, prepared[round_index * per_round : (round_index + 1) * per_round], 16)
        run.service_cpu_seconds += process_cpu_seconds(server_pid) - server_began
        run.service_seconds += result.seconds
        run.service_images += len(result.latencies)
        for code, count in result.errors.items():
            run.errors[code] = run.errors.get(code, 0) + count
    return run


def paired_throughput_ratio(run: PairedThroughput) -> dict[str, Any]:
    """Both sides' images/s over all their blocks, and the service's over the raw graph's."""
    raw = run.raw_images / run.raw_seconds
    service = run.service_images / run.service_seconds
    return {
        "raw_batch_images_per_s": raw,
        "service_images_per_s": service,
        "ratio": service / raw,
        "service_cpu_ms_per_request": 1000 * run.service_cpu_seconds / max(1, run.service_images),
        "images_per_side": run.raw_images,
        "errors": run.errors,
    }

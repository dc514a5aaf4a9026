"""The c=1 latency figure measured as a pair: blocks of raw `predict_image` calls and of DetectAnomalies requests
alternate in one run, and each side's p50 is taken over all of its blocks.

A shared VM's speed drifts by 10-20 % over a minute (other tenants, frequency); a raw row measured a minute before
or after the service row then decides the ratio more than the service does. Alternating short blocks puts both sides
under the same drift, so their ratio is the service's own cost."""

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.serving_load import Prepared, send
from service.engine.inference import OnnxInferencer

ROUNDS = 8


@dataclass
class PairedRun:
    raw_latencies: list[float] = field(default_factory=list)
    service_latencies: list[float] = field(default_factory=list)
    stages: list[dict[str, float]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


def paired_c1(
    inferencer: OnnxInferencer, bodies: list[bytes], port: int, prepared: list[Prepared], *, rounds: int = ROUNDS
) -> PairedRun:
    """`rounds` alternations of one raw block and one service block, each a `len(prepared) // rounds` share."""
    run = PairedRun()
    per_round = max(1, len(prepared) // rounds)
    for round_index in range(rounds):
        for index in range(per_round):
            begin = time.perf_counter()
            inferencer.predict_image(bodies[(round_index * per_round + index) % len(bodies)])
            run.raw_latencies.append(time.perf_counter() - begin)
        result = send(port, prepared[round_index * per_round : (round_index + 1) * per_round], 1)
        run.service_latencies.extend(result.latencies)
        run.stages.extend(result.stages)
        for code, count in result.errors.items():
            run.errors[code] = run.errors.get(code, 0) + count
    return run


def paired_ratio(run: PairedRun) -> dict[str, Any]:
    """Both sides' p50 (ms) over all their blocks, and the service's over the raw."""
    raw, service = float(np.median(run.raw_latencies)), float(np.median(run.service_latencies))
    return {
        "raw_p50_ms": 1000 * raw,
        "service_p50_ms": 1000 * service,
        "ratio": service / raw,
        "requests_per_side": len(run.service_latencies),
        "errors": run.errors,
    }

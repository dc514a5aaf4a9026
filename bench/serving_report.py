"""The serving benchmark's tables and its pass/fail per target (the four figures issue 12's done-when names)."""

from typing import Any

import numpy as np

from bench.serving_load import OUTSIDE
from service.api.server_timing import DETECT_STAGES

TARGETS = {
    "c1_p50_vs_raw_predict_image": ("<=", 1.15),
    "c16_images_per_s_vs_raw_batch": (">=", 0.90),
    "server_cpu_ms_per_request_vs_raw_cpu_ms_per_image": ("<=", 1.20),
    "errors_other_than_throttling": ("<=", 0),
}


def _cell(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| run | p50 ms | p99 ms | images/s | CPU ms / image | errors |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        errors = ", ".join(f"{code}: {count}" for code, count in (row.get("errors") or {}).items()) or "0"
        lines.append(
            f"| {row['name']} | {_cell(row['p50_ms'])} | {_cell(row['p99_ms'])} | {_cell(row['images_per_s'])} "
            f"| {_cell(row.get('cpu_ms_per_image'))} | {errors} |"
        )
    return "\n".join(lines)


def stage_breakdown(stages: list[dict[str, float]]) -> dict[str, float]:
    """Median milliseconds per stage over the requests' Server-Timing headers, and of each request's time outside
    them (`OUTSIDE`, from the client's clock)."""
    names = [name for name in (*DETECT_STAGES, OUTSIDE) if any(name in request for request in stages)]
    return {name: float(np.median([request.get(name, 0.0) for request in stages])) for name in names}


def stage_table(breakdown: dict[str, float], p50_ms: float) -> str:
    """Each stage's median; medians do not add up to the p50, so the time outside the stages is its own median over
    the requests, not the p50 less the stages."""
    lines = ["| stage | p50 ms | share of the c=1 p50 |", "|---|---:|---:|"]
    for name, value in breakdown.items():
        label = "outside the stages (HTTP, uvicorn, kernel, client)" if name == OUTSIDE else name
        lines.append(f"| {label} | {value:.2f} | {100 * value / p50_ms:.0f} % |")
    return "\n".join(lines)


def verdicts(rows: dict[str, dict[str, Any]], paired: dict[str, Any], paired_c16: dict[str, Any]) -> dict[str, Any]:
    """The four figures and whether each meets its target; all but the errors come from the paired runs."""
    service = [row for key, row in rows.items() if key.startswith("service")] + [paired, paired_c16]
    figures = {
        "c1_p50_vs_raw_predict_image": paired["ratio"],
        "c16_images_per_s_vs_raw_batch": paired_c16["ratio"],
        "server_cpu_ms_per_request_vs_raw_cpu_ms_per_image": paired["cpu_ratio"],
        "errors_other_than_throttling": sum(
            count for row in service for code, count in row["errors"].items() if code != "ThrottlingException"
        ),
    }
    result: dict[str, Any] = {}
    for name, value in figures.items():
        sense, target = TARGETS[name]
        met = value <= target if sense == "<=" else value >= target
        result[name] = {"value": value, "target": f"{sense} {target}", "met": bool(met)}
    result["all_met"] = all(entry["met"] for entry in result.values() if isinstance(entry, dict))
    return result


PAIRED_C1 = (
    ("paired c=1 (alternating blocks)", None, "c=1, 1 unit"),
    ("raw predict_image p50 ms", "raw_p50_ms", ".1f"),
    ("service p50 ms", "service_p50_ms", ".1f"),
    ("ratio", "ratio", ".2f"),
    ("raw CPU ms / image", "raw_cpu_ms_per_image", ".1f"),
    ("server CPU ms / request", "service_cpu_ms_per_request", ".1f"),
    ("CPU ratio", "cpu_ratio", ".2f"),
    ("requests per side", "requests_per_side", "d"),
)
PAIRED_C16 = (
    ("paired c=16 (alternating blocks)", None, "c=16, 2 units"),
    ("raw batch of 16 images/s", "raw_batch_images_per_s", ".1f"),
    ("service images/s", "service_images_per_s", ".1f"),
    ("ratio", "ratio", ".2f"),
    ("server CPU ms / request", "service_cpu_ms_per_request", ".1f"),
    ("images per side", "images_per_side", "d"),
)
"""Each paired table's columns: (header, key in the paired figures, format); the first column holds the row's label."""


def paired_table(paired: dict[str, Any], columns: tuple[tuple[str, str | None, str], ...] = PAIRED_C1) -> str:
    """One paired run (c=1 by default, or `PAIRED_C16`): both sides' figures over their alternating blocks."""
    (_, _, label), *figures = columns
    cells = [label] + [format(paired[key], spec) for _, key, spec in figures if key is not None]
    return "\n".join(
        [
            "| " + " | ".join(header for header, _, _ in columns) + " |",
            "|---|" + "---:|" * (len(columns) - 1),
            "| " + " | ".join(cells) + " |",
        ]
    )


def verdict_table(result: dict[str, Any]) -> str:
    lines = ["| done-when figure | value | target | met |", "|---|---:|---|---|"]
    for name, entry in result.items():
        if isinstance(entry, dict):
            lines.append(f"| {name} | {entry['value']:.2f} | {entry['target']} | {'yes' if entry['met'] else 'NO'} |")
    return "\n".join(lines)

"""The Server-Timing response header (W3C Server Timing): where a request's time went, stage by stage, so a client
or a benchmark can see the service's share of a DetectAnomalies call without profiling the server."""

from collections.abc import Mapping

HEADER = "Server-Timing"
DETECT_STAGES = (
    "receive",
    "auth",
    "lookup",
    "decode",
    "queue",
    "inference",
    "postprocess",
    "mask",
    "wait",
    "review",
    "log",
    "response",
)
"""The stages a DetectAnomalies reply names, in the order a request passes them."""


def server_timing(stages: Mapping[str, float]) -> str:
    """`name;dur=milliseconds` for each stage (seconds in), in order."""
    return ", ".join(f"{name};dur={1000.0 * seconds:.3f}" for name, seconds in stages.items())


def parse_server_timing(header: str) -> dict[str, float]:
    """The stages of a Server-Timing header, in milliseconds (what the benchmark reads back)."""
    stages: dict[str, float] = {}
    for metric in filter(None, (part.strip() for part in header.split(","))):
        name, _, params = metric.partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur":
                stages[name.strip()] = float(value)
    return stages

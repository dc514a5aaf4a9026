"""When to add or remove an inference unit: a pure decision, so any backend can reuse it and tests can pin it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScalingPolicy:
    """Add a unit when requests wait or units are busy more than `up_utilisation` of the time; remove one after
    `down_after_s` seconds below `down_utilisation` with nothing waiting. One step per decision, within [min, max]."""

    up_utilisation: float = 0.75
    down_utilisation: float = 0.25
    down_after_s: float = 60.0


def desired_units(
    *,
    current: int,
    min_units: int,
    max_units: int,
    utilisation: float,
    queue_depth: int,
    low_load_for_s: float,
    policy: ScalingPolicy,
) -> int:
    if current < min_units:
        return min_units
    if current > max_units:
        return max_units
    if current < max_units and (queue_depth > 0 or utilisation >= policy.up_utilisation):
        return current + 1
    low_now = is_low_load(utilisation=utilisation, queue_depth=queue_depth, policy=policy)
    if current > min_units and low_now and low_load_for_s >= policy.down_after_s:
        return current - 1
    return current


def is_low_load(*, utilisation: float, queue_depth: int, policy: ScalingPolicy) -> bool:
    return queue_depth == 0 and utilisation <= policy.down_utilisation

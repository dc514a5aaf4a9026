"""A real local Ray cluster for tests: `ray.init` in the test process (2 CPUs, no auth), shared by a test session.

API processes the test starts join it by the GCS address it yields (LV_RAY_ADDRESS)."""

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

RAY_INSTALLED = importlib.util.find_spec("ray") is not None
needs_ray = [pytest.mark.ray, pytest.mark.skipif(not RAY_INSTALLED, reason="ray is not installed (the `ray` extra)")]
"""Marks of a test that runs on Ray: it skips cleanly without the package."""

RAY_ENVIRONMENT = {"RAY_AUTH_MODE": "disabled"}


@contextmanager
def run_ray_cluster(num_cpus: int = 2) -> Iterator[str]:
    os.environ.update(RAY_ENVIRONMENT)
    import ray
    from ray import serve

    from service.distributed.cluster import NAMESPACE

    ray.init(num_cpus=num_cpus, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        serve.shutdown()
        ray.shutdown()


def training_worker_pids(job_id: int) -> list[int]:
    """Processes whose title is the Ray task of `job_id` (Ray titles a busy worker `ray::TASK_NAME`)."""
    from service.distributed.training import task_name

    wanted = f"ray::{task_name(job_id)}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(wanted):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids

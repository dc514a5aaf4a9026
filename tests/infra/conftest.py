"""Shared by the infra tests: what the installed Ray's `ray start` accepts."""

import importlib.util
import re
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_start_options() -> set[str]:
    """The long options Ray's CLI declares, read from its source (importing Ray's CLI takes seconds)."""
    spec = importlib.util.find_spec("ray")
    assert spec and spec.origin
    source = (Path(spec.origin).parent / "scripts/scripts.py").read_text()
    options = set(re.findall(r'"--([a-z][a-z0-9-]*)"', source))
    assert {"head", "address", "num-cpus", "num-gpus", "block", "ray-client-server-port"} <= options
    return options

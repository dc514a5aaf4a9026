"""Every benchmark script with command-line options starts as its documented command runs it (`.venv/bin/python bench/<name>.py`, from the
repository root, without the root on PYTHONPATH): its imports of `bench.*` and `service.*` resolve and `--help` works."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path for path in (ROOT / "bench").glob("*.py") if "argparse.ArgumentParser(" in path.read_text())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_a_bench_script_starts_from_its_documented_command(script: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    started = subprocess.run(
        [sys.executable, str(script.relative_to(ROOT)), "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert "usage:" in started.stdout

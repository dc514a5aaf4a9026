"""The API process starts without the training stack: images are decoded by the inferencers' torch-free module."""

import subprocess
import sys


def test_importing_the_app_loads_neither_lightning_nor_torch() -> None:
    probe = "import sys, service.app; print(sorted(m for m in ('lightning', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"

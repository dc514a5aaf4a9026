"""`lv server` takes its defaults from the service's Settings: every LV_* variable applies, options override."""

import os
import subprocess
from pathlib import Path

from tests.cli.conftest import LV
from tests.helpers.live_server import free_port


def test_lv_server_reads_its_defaults_from_settings(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LV_")}
    env.update({"LV_PORT": str(port), "LV_HOME": str(tmp_path / "home"), "LV_WEIGHTS_DIR": str(tmp_path / "w")})
    process = subprocess.Popen(
        [str(LV), "server"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert f"listening on http://127.0.0.1:{port}" in banner[0]
    assert str(tmp_path / "home") in banner[3]
    assert str(tmp_path / "w") in banner[4]

"""CLI fixtures: an isolated config dir holding a profile for the live server, and ways to run `lv`."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.helpers.live_server import LiveServer
from tests.sdk.conftest import skip_unless_sqlite

LV = Path(sys.executable).with_name("lv")


@pytest.fixture(autouse=True, scope="module")
def _sqlite_server_only(server: LiveServer) -> None:
    skip_unless_sqlite(server)


def isolated_env(tmp_path: Path) -> dict[str, str | None]:
    """No AWS settings or lv-home from the machine: the profile written by `lv configure` is the only source."""
    return {
        "LV_CONFIG_DIR": str(tmp_path / "config"),
        "LV_HOME": str(tmp_path / "no-lv-home"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_PROFILE": None,
        "LV_ENDPOINT_URL": None,
        "LV_PROFILE": None,
        "LV_PROJECT": None,
    }


@pytest.fixture
def lv_env(server: LiveServer, tmp_path: Path) -> dict[str, str | None]:
    env = isolated_env(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "configure",
            "--endpoint-url",
            server.url,
            "--region",
            server.settings.region,
            "--access-key-id",
            server.access_key_id,
            "--secret-access-key",
            server.secret_access_key,
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return env


Invoke = Callable[..., Result]


@pytest.fixture
def lv(lv_env: dict[str, str | None]) -> Invoke:
    """Run `lv ARGS...` in-process with Click's runner; stdout and stderr are kept apart."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=lv_env, input=input, catch_exceptions=False)

    return invoke


def run_lv(env: dict[str, str | None], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `lv` script in a subprocess."""
    merged = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "LV_"))}
    merged.update({key: value for key, value in env.items() if value is not None})
    return subprocess.run([str(LV), *args], check=False, env=merged, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cleanup_projects(server: LiveServer) -> Iterator[list[str]]:
    """Names appended here are force-deleted after the test."""
    import sdk

    names: list[str] = []
    yield names
    client = sdk.Client(server.url, access_key_id=server.access_key_id, secret_access_key=server.secret_access_key)
    for name in names:
        try:
            sdk.Project.get(name, client=client).delete(force=True)
        except sdk.NotFoundError:
            pass

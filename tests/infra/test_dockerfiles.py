"""The images' Dockerfiles, read with BuildKit's own parser (the `dockerfile` package), without a Docker engine.

What can be checked offline is checked for real: the health check's command is run against a live server, the
dependency-listing step is run on this pyproject.toml, and every file the build copies survives .dockerignore.
"""

import fnmatch
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest

from service.settings import Settings
from tests.helpers.live_server import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = [ROOT / "infra/docker/Dockerfile", ROOT / "infra/docker/Dockerfile.cuda"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions(path: Path) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(path)))


def only(commands: list[dockerfile.Command], name: str) -> dockerfile.Command:
    found = [command for command in commands if command.cmd == name]
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def build_args(commands: list[dockerfile.Command]) -> dict[str, str]:
    pairs = (command.value[0].partition("=") for command in commands if command.cmd == "ARG")
    return {name: value for name, _, value in pairs}


def healthcheck_argv(commands: list[dockerfile.Command]) -> list[str]:
    check = only(commands, "HEALTHCHECK")
    assert check.value[0] == "CMD" and check.json, "the health check should be an exec-form CMD"
    return list(check.value[1:])


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_the_image_runs_as_an_unprivileged_user_with_a_health_check(path: Path) -> None:
    commands = instructions(path)
    names = [command.cmd for command in commands]
    users = [index for index, name in enumerate(names) if name == "USER"]
    assert users, "no USER: the container would run as root"
    user = commands[users[-1]].value[0].split(":")[0]
    assert user not in {"root", "0"}
    assert not any(name == "RUN" for name in names[users[-1] :]), "a RUN after USER would need root again"
    assert users[-1] < names.index("CMD")
    assert "/health" in " ".join(healthcheck_argv(commands))
    assert [flag.split("=")[0] for flag in only(commands, "HEALTHCHECK").flags] == [
        "--interval",
        "--timeout",
        "--start-period",
        "--retries",
    ]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_the_image_matches_the_project(path: Path) -> None:
    commands = instructions(path)
    assert only(commands, "FROM").value[0] == "python:3.11-slim"
    assert PYPROJECT["project"]["requires-python"].startswith(">=3.11")
    torch_pin = next(dep for dep in PYPROJECT["project"]["dependencies"] if dep.startswith("torch=="))
    assert f"torch=={build_args(commands)['TORCH_VERSION']}" == torch_pin
    assert only(commands, "EXPOSE").value == (str(Settings().port),)
    copied = {source for command in commands if command.cmd == "COPY" for source in command.value[:-1]}
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]) == {f"{name}*" for name in copied} - {
        "pyproject.toml*",
        "README.md*",
    }
    env = dict(zip(*[iter(only_env(commands))] * 2, strict=True))
    assert {"LV_HOME", "LV_WEIGHTS_DIR", "LV_HOST", "LV_PORT"} <= set(env)
    assert {name.removeprefix("LV_").lower() for name in env if name.startswith("LV_")} <= set(Settings.model_fields)


def only_env(commands: list[dockerfile.Command]) -> list[str]:
    return [value for command in commands if command.cmd == "ENV" for value in command.value]


def test_the_cpu_and_cuda_images_differ_only_in_torch_and_the_gpu_environment() -> None:
    cpu, cuda = (instructions(path) for path in DOCKERFILES)
    assert build_args(cpu)["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert build_args(cuda)["TORCH_INDEX_URL"] == "https://pypi.org/simple"  # PyPI's Linux wheel is the CUDA build
    assert set(only_env(cuda)) - set(only_env(cpu)) == {
        "NVIDIA_VISIBLE_DEVICES",
        "all",
        "NVIDIA_DRIVER_CAPABILITIES",
        "compute,utility",
    }

    def shape(commands: list[dockerfile.Command]) -> list[tuple[str, tuple[str, ...]]]:
        return [(c.cmd, c.value) for c in commands if c.cmd not in {"ENV", "ARG"}]

    assert shape(cpu) == shape(cuda)


def test_the_health_check_command_passes_against_a_live_server_and_fails_without_one(server: LiveServer) -> None:
    argv = healthcheck_argv(instructions(DOCKERFILES[0]))
    assert argv[0] == "python"
    command = [sys.executable, *argv[1:]]
    port = server.url.rsplit(":", 1)[1]
    passed = subprocess.run(command, env={**os.environ, "LV_PORT": port}, check=False, timeout=30)
    assert passed.returncode == 0
    failed = subprocess.run(
        command, env={**os.environ, "LV_PORT": str(free_port())}, capture_output=True, check=False, timeout=30
    )
    assert failed.returncode != 0


def test_the_dependency_step_lists_what_pyproject_declares(tmp_path: Path) -> None:
    """The RUN that turns pyproject.toml into requirements.txt, run here on the real file (no extras)."""
    step = next(c.value[0] for c in instructions(DOCKERFILES[0]) if c.cmd == "RUN" and "tomllib" in c.value[0])
    argv = shlex.split(step.split(">", 1)[0])
    assert argv[:2] == ["python", "-c"] and argv[3] == "${EXTRAS}"
    listed = subprocess.run(
        [sys.executable, "-c", argv[2], ""], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    assert listed == PYPROJECT["project"]["dependencies"]
    extras = build_args(instructions(DOCKERFILES[0]))["EXTRAS"].split(",")
    assert all(name.isidentifier() for name in extras)


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a directory pattern covers its files."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.removeprefix("!").rstrip("/")
        parts = relative.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        anywhere = body.startswith("**/") and any(fnmatch.fnmatchcase(part, body[3:]) for part in parts)
        if body == "**" or anywhere or any(fnmatch.fnmatchcase(prefix, body) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_every_file_the_build_copies_is_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = {source for c in instructions(DOCKERFILES[0]) if c.cmd == "COPY" for source in c.value[:-1]}
    for source in sources:
        path = ROOT / source
        files = [path] if path.is_file() else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
        assert files, f"COPY {source}: nothing there"
        for file in files:
            assert not dockerignored(file.relative_to(ROOT).as_posix(), patterns), (
                f"{file} is excluded by .dockerignore"
            )
    assert dockerignored("tests/conftest.py", patterns)
    assert dockerignored("service/__pycache__/app.cpython-311.pyc", patterns)

"""`lv` basics: help, version, profiles and their secrets, one-line errors, --json; in-process and as a subprocess."""

import json
import stat

from click.testing import CliRunner

from cli.main import cli
from tests.cli.conftest import isolated_env, run_lv


def test_help_and_version():
    runner = CliRunner()
    short = runner.invoke(cli, ["-h"])
    assert short.exit_code == 0
    commands = ("projects", "datasets", "models", "detect-anomalies", "demo", "server", "configure", "weights", "keys")
    for command in commands:
        assert command in short.output
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0
    assert version.output.startswith("lv, version ")


def test_configure_keeps_secrets_private_and_masks_them(lv, lv_env, server, tmp_path):
    config_dir = tmp_path / "config"
    credentials = config_dir / "credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert server.secret_access_key in credentials.read_text()
    shown = json.loads(lv("configure", "--show", "--json").output)
    assert shown["endpoint_url"] == server.url
    assert shown["access_key_id"] == server.access_key_id
    assert shown["secret_access_key"] == "****"
    assert server.secret_access_key not in lv("configure", "--show").output

    lv("configure", "--profile", "other", "--endpoint-url", "http://127.0.0.1:9")
    assert stat.S_IMODE((config_dir / "config").stat().st_mode) == 0o600
    assert json.loads(lv("configure", "--show", "--json").output)["endpoint_url"] == server.url


def test_unknown_profile_is_a_one_line_error(lv):
    result = lv("--profile", "nope", "projects", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no profile 'nope'; create it with `lv configure --profile nope`"


def test_service_errors_are_one_line_without_traceback(lv, project_name):
    missing = lv("projects", "describe", project_name)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: ResourceNotFoundException: ")
    assert len(missing.stderr.strip().splitlines()) == 1


def test_projects_lifecycle(lv, project_name):
    created = json.loads(lv("projects", "create", project_name, "--json").output)
    assert created["ProjectName"] == project_name
    duplicate = lv("projects", "create", project_name)
    assert duplicate.exit_code == 1
    assert "ConflictException" in duplicate.stderr

    listed = json.loads(lv("projects", "list", "--json").output)
    assert project_name in {item["ProjectName"] for item in listed}
    table = lv("projects", "list").output.splitlines()
    assert table[0].split() == ["NAME", "CREATED", "ARN"]
    assert any(line.startswith(project_name + " ") for line in table[1:])

    described = lv("projects", "describe", project_name)
    assert f"name     {project_name}" in described.output
    deleted = lv("projects", "delete", project_name)
    assert deleted.output.strip() == f"deleted project {project_name}"
    assert lv("projects", "describe", project_name).exit_code == 1


def test_real_subprocess(lv_env, project_name, tmp_path):
    version = run_lv(lv_env, "--version")
    assert version.returncode == 0
    assert "lv, version" in version.stdout
    created = run_lv(lv_env, "projects", "create", project_name, "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["ProjectName"] == project_name
    missing = run_lv(lv_env, "datasets", "describe", "-p", project_name, "--type", "test")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ResourceNotFoundException")
    assert "Traceback" not in missing.stderr
    assert run_lv(lv_env, "projects", "delete", project_name).returncode == 0


def test_no_credentials_is_explained(tmp_path):
    env = isolated_env(tmp_path)
    env["LV_ENDPOINT_URL"] = "http://127.0.0.1:9"
    result = CliRunner().invoke(cli, ["projects", "list"], env=env)
    assert result.exit_code == 1
    assert "No credentials found" in result.stderr

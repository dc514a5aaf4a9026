"""infra/compose.yaml against the Compose Specification's JSON schema, plus what the schema cannot see: every setting
is a real one, every dependency has the health check it waits for, every required variable is in .env.example.

The schema is the copy check-jsonschema vendors (compose-spec, Apache-2.0; `check_jsonschema/builtin_schemas/vendor/`),
so the check runs offline.
"""

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "infra/compose.yaml"
ENV_EXAMPLE = ROOT / "infra/.env.example"


def compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # anchors and `<<` merges resolved, as Compose does


def env_example() -> dict[str, str]:
    lines = (line.strip() for line in ENV_EXAMPLE.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_file_is_valid_against_the_compose_schema(compose: dict[str, Any]) -> None:
    errors = [error.message for error in validator().iter_errors(compose)]
    assert errors == []


def test_the_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    assert any("helthcheck" in error.message for error in validator().iter_errors(broken))


def test_the_deployment_has_the_parts_the_issue_names(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"api", "proxy", "postgres", "minio", "minio-init", "bootstrap", "ray-head", "ray-worker"} <= set(services)
    assert services["api"]["deploy"]["replicas"] == 2
    assert "ports" not in services["api"], "replicas are reached through the proxy only"
    assert set(compose["volumes"]) == {"postgres-data", "minio-data", "lv-home", "weights"}
    for name in ("api", "bootstrap", "ray-head", "ray-worker"):
        assert services[name]["build"]["dockerfile"] == "infra/docker/Dockerfile"
        assert (
            COMPOSE_FILE.parent / services[name]["build"]["context"] / services[name]["build"]["dockerfile"]
        ).is_file()
    assert "lv-home:/var/lib/openlv/home" in services["api"]["volumes"]


def test_every_dependency_waits_for_something_that_reports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                check = services[target].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{name} waits on {target}, which has no check"
            else:
                assert rule["condition"] == "service_completed_successfully"
                assert services[target]["restart"] == "no", f"{target} is a one-shot step"
    long_running = [name for name, s in services.items() if s.get("restart") == "unless-stopped"]
    assert all(services[name]["healthcheck"]["test"] for name in long_running)


def test_every_openlv_setting_is_a_real_one(compose: dict[str, Any]) -> None:
    known = set(Settings.model_fields)
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("LV_"):
                assert variable.removeprefix("LV_").lower() in known, f"{name}: {variable} is no openlv setting"
    env = compose["services"]["api"]["environment"]
    assert env["LV_EXECUTOR"] == "ray" and env["LV_RAY_ADDRESS"] == "ray://ray-head:10001"
    assert env["LV_STORAGE_BACKEND"] == "s3" and env["LV_DATABASE_URL"].startswith("postgresql+psycopg://")
    ray_port = next(arg for arg in compose["services"]["ray-head"]["command"] if arg.startswith("--ray-client"))
    assert ray_port.endswith("=10001")


def test_every_required_variable_is_in_the_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = env_example()
    assert required - set(example) == set()
    assert required >= {"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "LV_S3_SECRET_KEY", "RAY_AUTH_TOKEN"}


def test_the_example_admin_key_pair_is_one_the_service_accepts(tmp_path: Path) -> None:
    example = env_example()
    settings = Settings(
        home=tmp_path,
        admin_access_key_id=example["LV_ADMIN_ACCESS_KEY_ID"],
        admin_secret_access_key=example["LV_ADMIN_SECRET_ACCESS_KEY"],
    )
    assert settings.admin_key_pair == (example["LV_ADMIN_ACCESS_KEY_ID"], example["LV_ADMIN_SECRET_ACCESS_KEY"])


def test_the_proxy_sends_traffic_to_every_api_replica(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    mount = next(volume for volume in proxy["volumes"] if volume.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (COMPOSE_FILE.parent / mount.split(":")[0]).read_text()
    assert re.search(r"dynamic a \{\s+name api\s+port 8642", caddyfile)
    assert "header_up Host" not in caddyfile, "SigV4 signs Host: the proxy must pass it through unchanged"
    assert proxy["ports"] == ["${OPENLV_PORT:-8642}:8642"]


def test_the_ray_nodes_start_with_options_ray_knows(compose: dict[str, Any], ray_start_options: set[str]) -> None:
    for name in ("ray-head", "ray-worker", "ray-worker-gpu"):
        command = compose["services"][name]["command"]
        assert command[:2] == ["ray", "start"] and "--block" in command
        flags = {argument.removeprefix("--").split("=")[0] for argument in command[2:]}
        assert flags <= ray_start_options, f"{name}: not `ray start` options: {flags - ray_start_options}"

"""infra/helm/openlv rendered (tests/helpers/gotemplate.py, as `helm template` would) and every manifest validated
offline: Kubernetes kinds with kubernetes-validate's strict 1.37 schemas; the KubeRay RayCluster, whose CRD schema is
not packaged for offline use, by its required fields plus its head and worker pod templates as Kubernetes
PodTemplates. Then the wiring no schema sees: names that refer to each other, settings that exist, Ray's address.
"""

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from service.settings import Settings
from tests.helpers.gotemplate import TemplateError, render_chart

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "infra/helm/openlv"
KUBERNETES_VERSION = "1.37"

SECRETS = {
    "database": {"url": "postgresql+psycopg://openlv:pw@db.example.internal:5432/openlv"},
    "s3": {"endpoint": "s3.example.internal:9000", "accessKey": "openlv", "secretKey": "s3-secret-value"},
    "secrets": {
        "masterKey": Fernet.generate_key().decode(),
        "sessionKey": "ab" * 32,
        "adminAccessKeyId": "LVAKCHARTADMIN000001",
        "adminSecretAccessKey": "x" * 40,
        "rayAuthToken": "ray-token-value",
    },
}
IN_CLUSTER = {
    **SECRETS,
    "database": {"url": ""},
    "postgresql": {"enabled": True, "password": "pg-password"},
    "minio": {"enabled": True, "rootPassword": "minio-root-password"},
}
VARIANTS = {
    "default": ([], SECRETS),
    "gpu": ([CHART / "values-gpu.yaml"], SECRETS),
    "in-cluster-services": ([], IN_CLUSTER),
}


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [document for document in documents if document["kind"] == kind]


def one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in by_kind(documents, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


@pytest.fixture(scope="module", params=list(VARIANTS))
def manifests(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    files, overrides = VARIANTS[request.param]
    return render_chart(CHART, files, overrides)


def pod_templates(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document["kind"] == "RayCluster":
        spec = document["spec"]
        return [spec["headGroupSpec"]["template"], *(group["template"] for group in spec["workerGroupSpecs"])]
    spec = document.get("spec", {})
    if document["kind"] == "Job" or "template" in spec:
        return [spec["template"]]
    return []


VALIDATED: set[str] = set()  # manifests the variants share are validated once (each validation reloads its schema)


def test_every_kubernetes_manifest_is_valid_against_its_schema(manifests: list[dict[str, Any]]) -> None:
    for document in manifests:
        key = json.dumps(document, sort_keys=True)
        if document["kind"] == "RayCluster" or key in VALIDATED:
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        VALIDATED.add(key)


def test_the_validator_catches_a_misplaced_field(manifests: list[dict[str, Any]]) -> None:
    service = one(manifests, "Service", "openlv-api")
    broken = {**service, "spec": {**service["spec"], "port": 8642}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_ray_cluster_has_what_kuberay_requires(
    manifests: list[dict[str, Any]], ray_start_options: set[str]
) -> None:
    cluster = one(manifests, "RayCluster")
    assert cluster["apiVersion"] == "ray.io/v1"
    spec = cluster["spec"]
    assert spec["rayVersion"] == importlib.metadata.version("ray"), "the cluster must run the image's Ray"
    options = ray_start_options
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    for group in groups:
        params = group["rayStartParams"]
        assert all(isinstance(value, str) for value in params.values()), "KubeRay takes rayStartParams as strings"
        assert set(params) <= options, f"not `ray start` options: {set(params) - options}"
        assert group["template"]["spec"]["containers"][0]["image"]
    names = [group["groupName"] for group in spec["workerGroupSpecs"]]
    assert len(set(names)) == len(names) >= 1
    for group in spec["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    for template in pod_templates(cluster):
        pod_template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": template}
        kubernetes_validate.validate(pod_template, KUBERNETES_VERSION, strict=True)


def test_every_pod_runs_unprivileged_openlv_containers_with_the_shared_settings(
    manifests: list[dict[str, Any]],
) -> None:
    configmaps = {d["metadata"]["name"] for d in by_kind(manifests, "ConfigMap")}
    secrets = {d["metadata"]["name"]: d.get("stringData", {}) for d in by_kind(manifests, "Secret")}
    openlv_pods = [t for d in manifests if d["kind"] in {"Deployment", "RayCluster"} for t in pod_templates(d)]
    assert len(openlv_pods) >= 3
    for template in openlv_pods:
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            refs = container["envFrom"]
            assert {ref["configMapRef"]["name"] for ref in refs if "configMapRef" in ref} <= configmaps
            for ref in (ref["secretRef"]["name"] for ref in refs if "secretRef" in ref):
                assert ref in secrets
        for volume in pod["volumes"]:
            if "secret" in volume:
                keys = {item["key"] for item in volume["secret"]["items"]}
                assert keys <= set(secrets[volume["secret"]["secretName"]])


def test_the_settings_are_real_and_ray_is_where_kuberay_puts_it(manifests: list[dict[str, Any]]) -> None:
    config = one(manifests, "ConfigMap", "openlv-settings")["data"]
    secret = one(manifests, "Secret", "openlv-secrets")["stringData"]
    known = set(Settings.model_fields)
    for name in [*config, *secret]:
        if name.startswith("LV_"):
            assert name.removeprefix("LV_").lower() in known, f"{name} is no openlv setting"
    assert all(isinstance(value, str) for value in config.values())
    cluster = one(manifests, "RayCluster")
    assert config["LV_RAY_ADDRESS"] == f"ray://{cluster['metadata']['name']}-head-svc:10001"
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert {"name": "client", "containerPort": 10001} in head["ports"]
    assert config["RAY_AUTH_MODE"] == "token" and secret["RAY_AUTH_TOKEN"]
    Fernet(secret["master.key"].encode())  # a usable master key


def test_the_api_is_reachable_scaled_and_probed(manifests: list[dict[str, Any]]) -> None:
    deployment = one(manifests, "Deployment", "openlv-api")
    service = one(manifests, "Service", "openlv-api")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    api = pod["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert pod["spec"]["initContainers"][0]["command"] == ["python", "-m", "service.bootstrap"]
    autoscaler = one(manifests, "HorizontalPodAutoscaler")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


def test_without_autoscaling_the_deployment_keeps_its_replica_count() -> None:
    manifests = render_chart(CHART, [], {**SECRETS, "api": {"autoscaling": {"enabled": False}}})
    assert not by_kind(manifests, "HorizontalPodAutoscaler")
    deployment = one(manifests, "Deployment", "openlv-api")
    assert deployment["spec"]["replicas"] == 2
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_gpu_values_add_a_gpu_worker_group_on_the_cuda_image() -> None:
    manifests = render_chart(CHART, [CHART / "values-gpu.yaml"], SECRETS)
    groups = {group["groupName"]: group for group in one(manifests, "RayCluster")["spec"]["workerGroupSpecs"]}
    assert set(groups) == {"cpu", "gpu"}
    gpu = groups["gpu"]
    container = gpu["template"]["spec"]["containers"][0]
    assert container["image"].startswith("openlv-cuda:")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["rayStartParams"]["num-gpus"] == "1"
    assert "nvidia.com/gpu" not in str(groups["cpu"])
    assert one(manifests, "ConfigMap")["data"]["LV_TRAINING_NUM_GPUS"] == "1"


def test_in_cluster_postgresql_and_minio_are_wired_in() -> None:
    manifests = render_chart(CHART, [], IN_CLUSTER)
    assert {d["metadata"]["name"] for d in by_kind(manifests, "StatefulSet")} == {
        "openlv-postgresql",
        "openlv-minio",
    }
    secret = one(manifests, "Secret", "openlv-secrets")["stringData"]
    assert secret["LV_DATABASE_URL"] == "postgresql+psycopg://openlv:pg-password@openlv-postgresql:5432/openlv"
    assert one(manifests, "ConfigMap")["data"]["LV_S3_ENDPOINT"] == "openlv-minio:9000"
    assert one(manifests, "Job", "openlv-minio-init")
    assert not by_kind(render_chart(CHART, [], SECRETS), "StatefulSet"), "off unless enabled"


def test_an_existing_secret_replaces_the_charts_own() -> None:
    manifests = render_chart(CHART, [], {"s3": SECRETS["s3"], "secrets": {"existingSecret": "ops-managed"}})
    assert not by_kind(manifests, "Secret")
    refs = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "ops-managed"}} in refs


@pytest.mark.parametrize("missing", ["masterKey", "adminSecretAccessKey", "rayAuthToken"])
def test_a_missing_secret_stops_the_render(missing: str) -> None:
    secrets = {name: value for name, value in SECRETS["secrets"].items() if name != missing}
    with pytest.raises(TemplateError, match=f"secrets.{missing}"):
        render_chart(CHART, [], {**SECRETS, "secrets": {**{k: "" for k in SECRETS["secrets"]}, **secrets}})


def test_the_chart_metadata_matches_the_project() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == importlib.metadata.version("openlv")

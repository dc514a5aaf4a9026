"""StartModelPackagingJob -> SUCCEEDED -> an edge bundle in storage that runs, through boto3 and the SDK; the errors."""

import io
import json
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from botocore.exceptions import ClientError
from sqlmodel import select

import sdk
from service.db.engine import transaction
from service.db.models import Model, PackagingJob, Project, utcnow
from service.domain.packaging_bundle import DECOMPRESSED_PATH, BundleSpec, build_bundle
from service.domain.packaging_targets import parse_target
from service.engine.data import ImageRecord
from service.engine.inference import load_inferencer
from tests.helpers.live_server import LiveServer
from tests.hosting.models import add_trained_model, defective_pixels, normal_pixels, tiny_model

__all__ = ["tiny_model"]

TinyModel = tuple[Path, list[ImageRecord]]
MODEL_FILES = {"model.onnx", "openvino/model.xml", "openvino/model.bin", "metadata.json"}


def greengrass(server: LiveServer, project: str, **overrides: Any) -> dict[str, Any]:
    """Greengrass settings for a CPU x86-64 device; the component is named after the project (names are global)."""
    settings: dict[str, Any] = {
        "S3OutputLocation": {"Bucket": server.context.store.bucket, "Prefix": "edge/packages/"},
        "ComponentName": f"com.example.{project}",
        "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"},
        "CompilerOptions": '{"mcpu": "core-avx2"}',
    }
    settings.update(overrides)
    return {"Greengrass": settings}


def wait_for_job(lv: Any, project: str, job_name: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = lv.describe_model_packaging_job(ProjectName=project, JobName=job_name)["ModelPackagingDescription"]
        if job["Status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return job
        assert job["Status"] in ("CREATED", "RUNNING"), job
        time.sleep(0.05)


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def set_model(server: LiveServer, project_name: str, **values: Any) -> None:
    with transaction(server.context.engine) as session:
        project = session.exec(select(Project).where(Project.name == project_name)).one()
        model = session.exec(select(Model).where(Model.project_id == project.id)).one()
        for name, value in values.items():
            setattr(model, name, value)
        session.add(model)


@pytest.fixture
def trained(server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel) -> str:
    """A project whose model 1 is TRAINED (the tiny PaDiM, no training run)."""
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, tiny_model[0])
    return project_name


def test_a_packaging_job_writes_an_edge_bundle_that_runs(
    server: LiveServer, lv: Any, trained: str, tiny_model: TinyModel, tmp_path: Path
) -> None:
    set_model(server, trained, image_threshold=0.7)
    configuration = greengrass(
        server, trained, ComponentDescription="Widget inspection", Tags=[{"Key": "line", "Value": "3"}]
    )
    job_name = lv.start_model_packaging_job(
        ProjectName=trained, ModelVersion="1", JobName="widget-edge", Configuration=configuration, Description="first"
    )["JobName"]
    assert job_name == "widget-edge"

    job = wait_for_job(lv, trained, job_name)
    assert job["Status"] == "SUCCEEDED", job
    assert (job["ProjectName"], job["ModelVersion"], job["ModelPackagingMethod"]) == (trained, "1", "Greengrass")
    assert job["ModelPackagingJobDescription"] == "first"
    assert job["ModelPackagingConfiguration"]["Greengrass"] == {
        **configuration["Greengrass"],
        "ComponentVersion": "1.0.0",
    }
    assert job["ModelPackagingOutputDetails"]["Greengrass"] == {
        "ComponentName": f"com.example.{trained}",
        "ComponentVersion": "1.0.0",
    }
    assert job["LastUpdatedTimestamp"] >= job["CreationTimestamp"]
    store = server.context.store
    component = f"com.example.{trained}"
    key = f"edge/packages/{component}-1.0.0.zip"
    assert f"s3://{store.bucket}/{key}" in job["StatusMessage"]

    bundle = zipfile.ZipFile(io.BytesIO(store.get(key)))
    assert set(bundle.namelist()) == MODEL_FILES | {"recipe.json", "README.md"}
    recipe = json.loads(bundle.read("recipe.json"))
    assert (recipe["ComponentName"], recipe["ComponentVersion"]) == (component, "1.0.0")
    assert recipe["ComponentDescription"] == "Widget inspection"
    (manifest,) = recipe["Manifests"]
    assert manifest["Platform"] == {"os": "linux", "architecture": "amd64"}
    assert manifest["Artifacts"] == [{"Uri": f"s3://{store.bucket}/{key}", "Unarchive": "ZIP"}]
    assert "load_inferencer" in manifest["Lifecycle"]["Run"]
    metadata = json.loads(bundle.read("metadata.json"))
    assert metadata["thresholds"]["image"] == pytest.approx(0.7)
    assert (metadata["algorithm"], metadata["image_size"]) == ("padim", 64)
    assert metadata["package"]["target"]["CompilerOptions"] == {"mcpu": "core-avx2"}
    assert metadata["package"]["tags"] == {"line": "3"}
    assert "OnnxInferencer" in bundle.read("README.md").decode()

    session = ort.InferenceSession(bundle.read("model.onnx"), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).integers(0, 256, size=(1, 40, 48, 3), dtype=np.uint8)
    score, anomaly_map = session.run(["pred_score", "anomaly_map"], {session.get_inputs()[0].name: image})
    assert score.shape == (1,) and anomaly_map.shape == (1, 64, 64) and np.isfinite(score).all()

    bundle.extractall(tmp_path / "device")
    model = load_inferencer(tmp_path / "device", "onnx")
    assert model.image_threshold == pytest.approx(0.7)
    record = tiny_model[1][0]
    assert model.predict_image(defective_pixels(record)).is_anomalous
    assert not model.predict_image(normal_pixels(record)).is_anomalous


def test_the_recipe_run_command_loads_the_bundle_on_a_device(tiny_model: TinyModel, tmp_path: Path) -> None:
    folder = tiny_model[0]
    files = {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    spec = BundleSpec(
        project_name="widgets",
        model_version=2,
        job_name="job-1",
        algorithm="padim",
        image_size=64,
        image_threshold=0.5,
        component_name="widgets",
        component_version="2.0.0",
        component_description="Widgets",
        tags={},
        target=parse_target(device="jetson_xavier", platform=None, compiler_options=None),
        artifact_uri="s3://bucket/edge/widgets-2.0.0.zip",
    )
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(files, spec)))
    recipe = json.loads(bundle.read("recipe.json"))
    (manifest,) = recipe["Manifests"]
    assert manifest["Platform"] == {"os": "linux", "architecture": "aarch64"}
    assert recipe["ComponentConfiguration"]["DefaultConfiguration"]["Target"]["CompilerOptions"]["gpu-code"] == "sm_72"
    artifacts = tmp_path / "artifacts"
    bundle.extractall(artifacts / "widgets-2.0.0")
    command = shlex.split(manifest["Lifecycle"]["Run"].replace(DECOMPRESSED_PATH, str(artifacts)))
    assert command[0] == "python3"
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, *command[1:]], check=False, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert "openlv model ready" in ran.stdout
    assert 0.0 <= float(ran.stdout.split()[-1]) <= 1.0


def test_jobs_list_newest_first_in_pages(server: LiveServer, lv: Any, project_name: str, tmp_path: Path) -> None:
    """On a TRAINED model without artefacts (its jobs fail at once, so the pages need no zipping)."""
    trained = project_name
    lv.create_project(ProjectName=trained)
    add_trained_model(server, trained, tmp_path)
    names = []
    for minor in range(3):
        configuration = greengrass(server, trained, ComponentVersion=f"1.{minor}.0")
        started = lv.start_model_packaging_job(ProjectName=trained, ModelVersion="1", Configuration=configuration)
        names.append(started["JobName"])
    assert len(set(names)) == 3
    first = lv.list_model_packaging_jobs(ProjectName=trained, MaxResults=2)
    assert [job["JobName"] for job in first["ModelPackagingJobs"]] == names[:0:-1]
    second = lv.list_model_packaging_jobs(ProjectName=trained, MaxResults=2, NextToken=first["NextToken"])
    assert [job["JobName"] for job in second["ModelPackagingJobs"]] == names[:1]
    assert "NextToken" not in second
    pages = lv.get_paginator("list_model_packaging_jobs").paginate(
        ProjectName=trained, PaginationConfig={"PageSize": 1}
    )
    assert [job["JobName"] for page in pages for job in page["ModelPackagingJobs"]] == names[::-1]
    assert all(wait_for_job(lv, trained, name)["Status"] == "FAILED" for name in names)


def test_names_and_component_versions_are_unique(server: LiveServer, lv: Any, trained: str) -> None:
    lv.start_model_packaging_job(
        ProjectName=trained, ModelVersion="1", JobName="edge", Configuration=greengrass(server, trained)
    )
    with pytest.raises(ClientError) as same_name:
        lv.start_model_packaging_job(
            ProjectName=trained,
            ModelVersion="1",
            JobName="edge",
            Configuration=greengrass(server, trained, ComponentVersion="9.9.9"),
        )
    assert error_code(same_name) == "ConflictException"
    with pytest.raises(ClientError) as same_component:
        lv.start_model_packaging_job(
            ProjectName=trained, ModelVersion="1", JobName="edge-again", Configuration=greengrass(server, trained)
        )
    assert error_code(same_component) == "ConflictException"
    assert [job["JobName"] for job in lv.list_model_packaging_jobs(ProjectName=trained)["ModelPackagingJobs"]] == [
        "edge"
    ]


def test_a_client_token_starts_one_job(server: LiveServer, lv: Any, trained: str) -> None:
    request = {
        "ProjectName": trained,
        "ModelVersion": "1",
        "Configuration": greengrass(server, trained),
        "ClientToken": f"{trained}-token",
    }
    first = lv.start_model_packaging_job(**request)["JobName"]
    assert lv.start_model_packaging_job(**request)["JobName"] == first
    with pytest.raises(ClientError) as other_request:
        lv.start_model_packaging_job(**{**request, "Description": "another"})
    assert error_code(other_request) == "ConflictException"
    assert len(lv.list_model_packaging_jobs(ProjectName=trained)["ModelPackagingJobs"]) == 1


INVALID_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"S3OutputLocation": {"Bucket": "someone-elses-bucket"}}, "bucket"),
    ({"S3OutputLocation": {"Prefix": "../outside"}}, "invalid object key"),
    ({"TargetDevice": "jetson_xavier"}, "exactly one of TargetDevice and TargetPlatform"),
    ({"TargetPlatform": None, "TargetDevice": "raspberry_pi"}, "not supported"),
    ({"TargetPlatform": {"Os": "WINDOWS", "Arch": "X86_64"}}, "Os"),
    ({"TargetPlatform": {"Os": "LINUX", "Arch": "ARM64", "Accelerator": "NVIDIA"}}, "gpu-code"),
    ({"CompilerOptions": "not json"}, "JSON object"),
    ({"CompilerOptions": '{"gpu-code": "sm_75"}'}, "do not apply to a CPU"),
    ({"ComponentVersion": "1.0"}, "ComponentVersion"),
]


def test_invalid_settings_are_refused(server: LiveServer, lv: Any, trained: str) -> None:
    for overrides, fragment in INVALID_SETTINGS:
        settings = greengrass(server, trained)["Greengrass"]
        for name, value in overrides.items():
            if value is None:
                settings.pop(name)
            elif name == "S3OutputLocation":
                settings[name] = {**settings[name], **value}
            else:
                settings[name] = value
        with pytest.raises(ClientError) as refused:
            lv.start_model_packaging_job(ProjectName=trained, ModelVersion="1", Configuration={"Greengrass": settings})
        assert error_code(refused) == "ValidationException", overrides
        assert fragment in refused.value.response["Error"]["Message"], overrides
    assert lv.list_model_packaging_jobs(ProjectName=trained)["ModelPackagingJobs"] == []


def test_only_existing_trained_models_are_packaged(server: LiveServer, lv: Any, trained: str) -> None:
    def start(project: str, version: str) -> pytest.ExceptionInfo[ClientError]:
        with pytest.raises(ClientError) as refused:
            lv.start_model_packaging_job(
                ProjectName=project, ModelVersion=version, Configuration=greengrass(server, trained)
            )
        return refused

    assert error_code(start(trained, "2")) == "ResourceNotFoundException"
    assert error_code(start(trained + "-missing", "1")) == "ResourceNotFoundException"
    set_model(server, trained, status="TRAINING")
    refused = start(trained, "1")
    assert error_code(refused) == "ConflictException" and "TRAINING" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as unknown_job:
        lv.describe_model_packaging_job(ProjectName=trained, JobName="no-such-job")
    assert error_code(unknown_job) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as unknown_project:
        lv.list_model_packaging_jobs(ProjectName=trained + "-missing")
    assert error_code(unknown_project) == "ResourceNotFoundException"


def test_a_failed_job_writes_nothing(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model[0], broken)
    (broken / "model.onnx").unlink()
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, broken)
    configuration = greengrass(
        server, project_name, S3OutputLocation={"Bucket": server.context.store.bucket, "Prefix": project_name}
    )
    job_name = lv.start_model_packaging_job(ProjectName=project_name, ModelVersion="1", Configuration=configuration)[
        "JobName"
    ]
    job = wait_for_job(lv, project_name, job_name)
    assert job["Status"] == "FAILED" and "model.onnx" in job["StatusMessage"]
    assert list(server.context.store.list(project_name + "/")) == []


def test_an_interrupted_job_is_settled_failed(server: LiveServer, lv: Any, trained: str) -> None:
    with transaction(server.context.engine) as session:
        project = session.exec(select(Project).where(Project.name == trained)).one()
        model = session.exec(select(Model).where(Model.project_id == project.id)).one()
        long_ago = utcnow() - timedelta(minutes=30)
        session.add(
            PackagingJob(
                project_id=project.id,  # type: ignore[arg-type]
                model_id=model.id,  # type: ignore[arg-type]
                model_version=1,
                job_name="lost",
                component_name="lost",
                component_version="1.0.0",
                output_key="edge/lost-1.0.0.zip",
                status="RUNNING",
                created_at=long_ago,
                updated_at=long_ago,
            )
        )
    job = lv.describe_model_packaging_job(ProjectName=trained, JobName="lost")["ModelPackagingDescription"]
    assert job["Status"] == "FAILED" and "interrupted" in job["StatusMessage"]


def test_deleting_the_model_and_project_leaves_no_jobs(server: LiveServer, lv: Any, trained: str) -> None:
    job_name = lv.start_model_packaging_job(
        ProjectName=trained, ModelVersion="1", Configuration=greengrass(server, trained)
    )["JobName"]
    assert wait_for_job(lv, trained, job_name)["Status"] == "SUCCEEDED"
    lv.delete_model(ProjectName=trained, ModelVersion="1")
    with pytest.raises(ClientError) as gone:
        lv.describe_model_packaging_job(ProjectName=trained, JobName=job_name)
    assert error_code(gone) == "ResourceNotFoundException"
    lv.delete_project(ProjectName=trained)
    with transaction(server.context.engine) as session:
        assert session.exec(select(PackagingJob).where(PackagingJob.job_name == job_name)).all() == []


def test_the_sdk_packages_a_model(server: LiveServer, trained: str) -> None:
    with sdk.Client(
        server.url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.settings.region,
    ) as client:
        model = sdk.Model.get(trained, "1", client=client)
        job_name = model.package(greengrass(server, trained, ComponentVersion="3.1.4"), description="from the SDK")
        project = sdk.Project.get(trained, client=client)
        deadline = time.monotonic() + 30
        while (job := project.packaging_job(job_name)).status not in ("SUCCEEDED", "FAILED"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert job.status == "SUCCEEDED", job.status_message
        assert job.model_packaging_job_description == "from the SDK"
        assert job.model_packaging_output_details == {
            "Greengrass": {"ComponentName": f"com.example.{trained}", "ComponentVersion": "3.1.4"}
        }
        assert [listed.job_name for listed in project.packaging_jobs(page_size=1)] == [job_name]

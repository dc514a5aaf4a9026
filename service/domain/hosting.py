"""Hosting model versions: StartModel, StopModel, DetectAnomalies, and re-hosting after a restart.

Status flow (as in Lookout for Vision): TRAINED or HOSTING_FAILED -> STARTING_HOSTING -> HOSTED or HOSTING_FAILED;
StopModel: HOSTED, STARTING_HOSTING or HOSTING_FAILED -> STOPPING_HOSTING -> TRAINED. Units start and stop on the
runtime's control thread after the request's transaction commits; the result is written with a conditional UPDATE,
so a StopModel that arrives while a model starts always wins.

A model that was HOSTED (or starting) when the service stopped is hosted again on the next start, as a hosted
Lookout for Vision model stays hosted until StopModel: its status reads STARTING_HOSTING until its units serve again.
The local artefact cache follows the models: a deleted model's copy is evicted, and the start drops copies of models
that no longer exist.

The embedded backend keeps units in the API process, so run one API process per database; units of the Ray Serve
backend outlive any API replica, and a replica that starts leaves the deployments it finds serving as they are. The
runtime is built by `service.wiring.open_hosting`; this module only uses it.
"""

import asyncio
import math
import time
from dataclasses import dataclass, field

import anyio
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.context import AppContext
from service.db.engine import UnitOfWork, transaction
from service.db.models import Model, utcnow
from service.domain import shadow_traffic
from service.domain.deployment_keys import deployment_key
from service.domain.detections import DetectionRecord
from service.domain.hosted_targets import HostedTargets
from service.domain.images import decode_image
from service.domain.model_status import STARTABLE, STOPPABLE, ModelStatus, require_status
from service.domain.review.routing import RoutedImage, RoutingOutcome, route_detection
from service.domain.runtimes import model_runtime
from service.domain.training_runs import ARTIFACTS_FOLDER, get_model
from service.errors import ConflictException, ThrottlingException, ValidationException
from service.hosting.backend import InferenceRequest, NotDeployed, Overloaded, Prediction
from service.hosting.runtime import HostingRuntime


@dataclass
class Hosting:
    """The service's hosting side: its context (database, storage, settings) and the runtime that runs units."""

    context: AppContext
    runtime: HostingRuntime
    targets: HostedTargets = field(init=False)

    def __post_init__(self) -> None:
        self.targets = HostedTargets(
            self.context.engine, self.runtime.shadows, self.context.settings.hosting_settings_ttl_s
        )

    @property
    def engine(self) -> Engine:
        return self.context.engine


def current_units(hosting: Hosting, model: Model) -> int | None:
    """Inference units serving the model right now, or None when it has no deployment here."""
    status = hosting.runtime.backend.status(deployment_key(model))
    return None if status is None else status.current_units


def _set_status(
    engine: Engine, model_id: int, *, expected: set[ModelStatus], status: ModelStatus, message: str
) -> bool:
    """Move the model to `status` only if it is still in one of the `expected` states; True when it moved."""
    with transaction(engine) as session:
        result = session.execute(
            update(Model)
            .where(col(Model.id) == model_id, col(Model.status).in_(expected))
            .values(status=status, status_message=message)
        )
        return bool(getattr(result, "rowcount", 0))


def _deploy(hosting: Hosting, model: Model) -> None:
    assert model.id is not None and model.min_inference_units is not None
    model_id, key = model.id, deployment_key(model)
    units = model.min_inference_units
    maximum = model.max_inference_units or units

    def on_result(error: str | None) -> None:
        if error is None:
            if not _set_status(
                hosting.engine,
                model_id,
                expected={ModelStatus.STARTING_HOSTING},
                status=ModelStatus.HOSTED,
                message="The model is hosted.",
            ):
                _abandon_if_gone(hosting, model_id, key)
            return
        _set_status(
            hosting.engine,
            model_id,
            expected={ModelStatus.STARTING_HOSTING},
            status=ModelStatus.HOSTING_FAILED,
            message=f"Hosting failed: {error}",
        )

    hosting.runtime.deploy(
        key=key,
        artifacts_prefix=_cached_prefix(model),
        min_units=units,
        max_units=maximum,
        runtime=model_runtime(model, hosting.context.settings),
        on_result=on_result,
    )


def _abandon_if_gone(hosting: Hosting, model_id: int, key: str) -> None:
    """A deployment finished starting for a model that was deleted meanwhile: stop its units."""
    with transaction(hosting.engine) as session:
        if session.get(Model, model_id) is None:
            hosting.runtime.backend.stop(key)


def start_model(
    work: UnitOfWork,
    hosting: Hosting,
    *,
    project_name: str,
    version: str,
    min_units: int,
    max_units: int | None,
    runtime: str | None = None,
) -> str:
    """Record STARTING_HOSTING and start the units once the caller's transaction commits; returns the status.
    `runtime` (checked by the caller) replaces the model's recorded one; None keeps it."""
    if min_units < 1:
        raise ValidationException(f"MinInferenceUnits must be at least 1; got {min_units}.")
    if max_units is not None and max_units < min_units:
        raise ValidationException(
            f"MaxInferenceUnits ({max_units}) must not be less than MinInferenceUnits ({min_units})."
        )
    session = work.session
    model = get_model(session, project_name=project_name, version=version)
    hint = "only a TRAINED model (or one whose hosting failed) can be started."
    require_status(model, STARTABLE, project_name=project_name, hint=hint)
    model.status = ModelStatus.STARTING_HOSTING
    model.status_message = f"Starting {min_units} inference unit(s)."
    model.min_inference_units = min_units
    model.max_inference_units = max_units or min_units
    if runtime is not None:
        model.runtime = runtime
    session.add(model)
    session.flush()
    snapshot = model.model_copy()
    work.after_commit(lambda: _deploy(hosting, snapshot))
    return ModelStatus.STARTING_HOSTING


def stop_model(work: UnitOfWork, hosting: Hosting, *, project_name: str, version: str) -> str:
    """Record STOPPING_HOSTING and stop the units once the caller's transaction commits; then TRAINED."""
    session = work.session
    model = get_model(session, project_name=project_name, version=version)
    require_status(model, STOPPABLE, project_name=project_name, hint="it is not hosted; nothing to stop.")
    shadow_traffic.require_unpaired(session, model, project_name=project_name)
    model.status = ModelStatus.STOPPING_HOSTING
    model.status_message = "Stopping the inference units."
    session.add(model)
    session.flush()
    assert model.id is not None
    model_id, key, engine = model.id, deployment_key(model), hosting.engine

    def on_done() -> None:
        trained = ModelStatus.TRAINED
        _set_status(
            engine, model_id, expected={ModelStatus.STOPPING_HOSTING}, status=trained, message="The model is trained."
        )

    work.after_commit(lambda: hosting.runtime.undeploy(key=key, on_done=on_done))
    return ModelStatus.STOPPING_HOSTING


def _cached_prefix(model: Model) -> str:
    return model.artifacts_prefix + ARTIFACTS_FOLDER


def evict_cached_artifacts(hosting: Hosting, *, model: Model) -> None:
    """Drop the local copy of a deleted model's artefacts (call after the deletion commits)."""
    hosting.runtime.cache.evict(_cached_prefix(model))


def resume_hosting(hosting: Hosting) -> list[str]:
    """On service start: drop cached copies of models that no longer exist, host again the models that were hosted or
    starting, finish stops; returns the keys started."""
    with transaction(hosting.engine) as session:
        prefixes = [_cached_prefix(model) for model in session.exec(select(Model))]
    hosting.runtime.cache.retain(prefixes)
    with transaction(hosting.engine) as session:
        session.execute(
            update(Model)
            .where(col(Model.status) == ModelStatus.STOPPING_HOSTING)
            .values(status=ModelStatus.TRAINED, status_message="The model is trained.")
        )
        hosted = {ModelStatus.HOSTED, ModelStatus.STARTING_HOSTING}
        models = [
            model
            for model in session.exec(select(Model).where(col(Model.status).in_(hosted)))
            if model.status != ModelStatus.HOSTED or hosting.runtime.backend.status(deployment_key(model)) is None
        ]
        for model in models:
            model.status = ModelStatus.STARTING_HOSTING
            model.status_message = "Hosting again after a service restart."
            session.add(model)
    for model in models:
        _deploy(hosting, model)
    return [deployment_key(model) for model in models]


@dataclass(frozen=True)
class Detected:
    model_version: int
    prediction: Prediction
    review: RoutingOutcome | None = None
    """Whether the project's review policy routed the detection to a reviewer; None without a policy."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds spent by stage (lookup, decode, queue, inference, postprocess, mask, review, log)."""


INLINE_DECODE_BYTES = 1024 * 1024
"""Bodies up to this size are decoded on the event loop (about a millisecond); larger ones in a worker thread."""


async def detect_anomalies(
    hosting: Hosting, *, project_name: str, version: str, body: bytes, content_type: str, caller: str
) -> Detected:
    """Judge one image with a hosted model at its current threshold, route it to human review when the review policy
    says so, and log the detection. The model's status, threshold and policy come from `HostedTargets` (no database
    transaction while they are cached); the request waits for its unit without holding a thread. A model in a running
    shadow pair is answered by the pair's live model, and the shadow gets a copy (`shadow_traffic`)."""
    started = time.perf_counter()
    target = hosting.targets.cached(project_name, version)
    if target is None:
        target = await anyio.to_thread.run_sync(hosting.targets.load, project_name, version)
    model = target.model
    if model.status != ModelStatus.HOSTED:
        raise _not_hosted(project_name, model)
    assert model.id is not None
    looked_up = time.perf_counter()
    settings = hosting.context.settings
    if len(body) <= INLINE_DECODE_BYTES:
        image = decode_image(body, content_type=content_type, settings=settings)
    else:
        image = await anyio.to_thread.run_sync(lambda: decode_image(body, content_type=content_type, settings=settings))
    decoded = time.perf_counter()
    prediction = await _infer(hosting, model, project_name, InferenceRequest(image.pixels, model.image_threshold))
    inferred = time.perf_counter()
    detected_at = utcnow()
    review = None
    if target.policy is not None:
        policy = target.policy
        routed = RoutedImage(data=body, image_format=image.format, width=image.width, height=image.height)
        review = await anyio.to_thread.run_sync(
            lambda: route_detection(
                hosting.context,
                policy=policy,
                model=model,
                prediction=prediction,
                image=routed,
                detected_at=detected_at,
                caller=caller,
            )
        )
    reviewed = time.perf_counter()
    record = DetectionRecord(
        model_id=model.id,
        model_version=model.version,
        detected_at=detected_at,
        is_anomalous=prediction.is_anomalous,
        score=prediction.score,
        threshold=model.image_threshold,
        confidence=prediction.confidence,
        anomaly_fraction=prediction.anomaly_fraction,
        latency_ms=1000.0 * (reviewed - started),
        image=body,
        image_format=image.format,
        width=image.width,
        height=image.height,
        caller=caller,
    )
    hosting.runtime.recorder.record(record)
    shadow_traffic.observe(
        hosting.runtime.shadows, target.shadow, record=record, pixels=image.pixels, prediction=prediction, review=review
    )
    unit = prediction.stages
    stages = {
        "lookup": looked_up - started,
        "decode": decoded - looked_up,
        **unit,
        "wait": max(0.0, inferred - decoded - sum(unit.values())),
        "review": reviewed - inferred,
        "log": time.perf_counter() - reviewed,
    }
    return Detected(model_version=model.version, prediction=prediction, review=review, stages=stages)


async def _infer(hosting: Hosting, model: Model, project_name: str, request: InferenceRequest) -> Prediction:
    """The units' answer. A backend says its queue is full (`Overloaded`) or the deployment is gone (`NotDeployed`)
    when the request is submitted or through the answer's future."""
    timeout = hosting.runtime.settings.hosting_request_timeout_s
    try:
        future = hosting.runtime.backend.submit(deployment_key(model), request)
        with anyio.fail_after(timeout):
            return await asyncio.wrap_future(future)
    except Overloaded as exc:
        raise ThrottlingException(
            f"Model {model.version} of project {project_name} is at capacity: {exc}. Retry later.",
            retry_after_seconds=math.ceil(exc.retry_after_s),
        ) from None
    except TimeoutError:
        future.cancel()
        raise ThrottlingException(
            f"Model {model.version} of project {project_name} did not answer within {timeout:g} s; retry later.",
            retry_after_seconds=max(1, math.ceil(timeout / 10)),
        ) from None
    except NotDeployed:
        raise _not_hosted(project_name, model) from None


def _not_hosted(project_name: str, model: Model) -> ConflictException:
    state = "hosted here yet" if model.status == ModelStatus.HOSTED else model.status
    return ConflictException(
        f"Model {model.version} of project {project_name} is not hosted ({state}); start it with StartModel and "
        "wait for HOSTED.",
        resource_id=f"{project_name}/{model.version}",
        resource_type="MODEL",
    )

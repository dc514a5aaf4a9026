"""Shadow mode: StartShadowModel, PromoteShadowModel, StopShadowModel, and the pair DescribeShadowComparison reads.

A pair is two HOSTED model versions of one project: the live one answers every DetectAnomalies addressed to either
version, the shadow one runs a copy of each on its own units (`shadow_traffic`). PromoteShadowModel swaps the roles
in one conditional UPDATE and then in the in-memory routes: both stay hosted throughout, so no request fails or waits
on the swap, and promoting again rolls back. StopShadowModel ends the pair and stops hosting the model that is the
shadow at that moment. A project has at most one running pair.
"""

from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import UnitOfWork, transaction
from service.db.models import Model, ShadowModel, utcnow
from service.domain.hosting import Hosting, stop_model
from service.domain.model_status import ModelStatus, require_status
from service.domain.projects import get_project
from service.domain.shadow_traffic import ACTIVE, STOPPED, ShadowRecord, route_of, running_pair
from service.domain.training_runs import get_model
from service.errors import ConflictException, ResourceNotFoundException, ValidationException
from service.hosting.shadow import ShadowRunner

HOSTED_ONLY = frozenset({ModelStatus.HOSTED})


@dataclass(frozen=True)
class ShadowPair:
    """A pair as the API describes it."""

    pair: ShadowModel
    project_name: str
    live_version: int
    shadow_version: int


def load_routes(engine: Engine, runner: ShadowRunner[ShadowRecord]) -> int:
    """On service start: the routes of every running pair; returns how many."""
    with transaction(engine) as session:
        pairs = list(session.exec(select(ShadowModel).where(ShadowModel.status == ACTIVE)))
    for pair in pairs:
        runner.set_route(route_of(pair))
    return len(pairs)


def describe_pair(session: Session, pair: ShadowModel, project_name: str) -> ShadowPair:
    live, shadow = session.get(Model, pair.live_model_id), session.get(Model, pair.shadow_model_id)
    assert live is not None and shadow is not None
    return ShadowPair(pair=pair, project_name=project_name, live_version=live.version, shadow_version=shadow.version)


def start_shadow_model(
    work: UnitOfWork,
    hosting: Hosting,
    *,
    project_name: str,
    version: str,
    live_version: str,
    live_project_name: str | None,
    sample_percent: float,
    caller: str,
) -> ShadowPair:
    """Run model `version` in the shadow of `live_version`; the routes change once the transaction commits."""
    if live_project_name is not None and live_project_name != project_name:
        raise ValidationException(
            f"Model {live_version} of project {live_project_name} belongs to another project: a shadow model runs "
            f"beside a live model of its own project ({project_name})."
        )
    if not 0 < sample_percent <= 100:
        raise ValidationException(f"SamplePercent must be above 0 and at most 100; got {sample_percent:g}.")
    session = work.session
    candidate = get_model(session, project_name=project_name, version=version)
    live = get_model(session, project_name=project_name, version=live_version)
    if candidate.id == live.id:
        raise ValidationException(
            f"Model {candidate.version} of project {project_name} cannot run in its own shadow; name another "
            "version as LiveModelVersion."
        )
    for model, role in ((candidate, "shadow"), (live, "live")):
        hint = f"only a HOSTED model can be the {role} model of a pair; host it with StartModel and wait for HOSTED."
        require_status(model, HOSTED_ONLY, project_name=project_name, hint=hint)
    project = get_project(session, name=project_name)
    running = session.exec(select(ShadowModel).where(ShadowModel.active_project_id == project.id)).first()
    if running is not None:
        described = describe_pair(session, running, project_name)
        raise ConflictException(
            f"Project {project_name} already runs model {described.shadow_version} in the shadow of model "
            f"{described.live_version}; stop that pair with StopShadowModel first.",
            resource_id=project_name,
            resource_type="SHADOW_MODEL",
        )
    assert project.id is not None and live.id is not None and candidate.id is not None
    pair = ShadowModel(
        project_id=project.id,
        active_project_id=project.id,
        live_model_id=live.id,
        shadow_model_id=candidate.id,
        sample_percent=sample_percent,
        status=ACTIVE,
        started_by=caller,
    )
    session.add(pair)
    session.flush()
    route = route_of(pair)
    work.after_commit(lambda: hosting.runtime.shadows.set_route(route))
    return ShadowPair(pair=pair, project_name=project_name, live_version=live.version, shadow_version=candidate.version)


def _running_pair_of(session: Session, *, project_name: str, version: str) -> tuple[ShadowModel, Model]:
    model = get_model(session, project_name=project_name, version=version)
    pair = running_pair(session, model)
    if pair is None:
        raise ResourceNotFoundException(
            f"Model {model.version} of project {project_name} has no shadow model running; start one with "
            "StartShadowModel.",
            resource_id=f"{project_name}/{model.version}",
            resource_type="SHADOW_MODEL",
        )
    return pair, model


def latest_pair_of(session: Session, *, project_name: str, version: str) -> ShadowModel:
    """The running pair of model `version`, else the last one it was part of (comparisons outlive their pair)."""
    model = get_model(session, project_name=project_name, version=version)
    pairs = session.exec(
        select(ShadowModel)
        .where(or_(col(ShadowModel.live_model_id) == model.id, col(ShadowModel.shadow_model_id) == model.id))
        .order_by(col(ShadowModel.id))
    ).all()
    if not pairs:
        raise ResourceNotFoundException(
            f"Model {model.version} of project {project_name} has never run in a shadow pair; start one with "
            "StartShadowModel.",
            resource_id=f"{project_name}/{model.version}",
            resource_type="SHADOW_MODEL",
        )
    running = [pair for pair in pairs if pair.status == ACTIVE]
    return (running or list(pairs))[-1]


def promote_shadow_model(work: UnitOfWork, hosting: Hosting, *, project_name: str, version: str) -> ShadowPair:
    """Swap live and shadow: the shadow answers from the next request, the old live one becomes the shadow."""
    session = work.session
    pair, _ = _running_pair_of(session, project_name=project_name, version=version)
    for model_id in (pair.live_model_id, pair.shadow_model_id):
        model = session.get(Model, model_id)
        assert model is not None
        hint = "both models of a pair must be HOSTED to swap them; wait for HOSTED or stop the pair."
        require_status(model, HOSTED_ONLY, project_name=project_name, hint=hint)
    swapped = session.execute(
        update(ShadowModel)
        .where(
            col(ShadowModel.id) == pair.id,
            col(ShadowModel.status) == ACTIVE,
            col(ShadowModel.live_model_id) == pair.live_model_id,
        )
        .values(
            live_model_id=pair.shadow_model_id,
            shadow_model_id=pair.live_model_id,
            promotions=col(ShadowModel.promotions) + 1,
            updated_at=utcnow(),
        )
    )
    if not getattr(swapped, "rowcount", 0):
        raise ConflictException(
            f"The shadow pair of model {version} of project {project_name} changed meanwhile; describe it and retry.",
            resource_id=project_name,
            resource_type="SHADOW_MODEL",
        )
    session.refresh(pair)
    route = route_of(pair)
    work.after_commit(lambda: hosting.runtime.shadows.set_route(route))
    return describe_pair(session, pair, project_name)


def stop_shadow_model(work: UnitOfWork, hosting: Hosting, *, project_name: str, version: str) -> tuple[ShadowPair, str]:
    """End the pair and stop hosting its shadow model; returns the pair and the shadow model's new status."""
    session = work.session
    pair, _ = _running_pair_of(session, project_name=project_name, version=version)
    pair.status, pair.active_project_id = STOPPED, None
    pair.stopped_at = pair.updated_at = utcnow()
    session.add(pair)
    session.flush()
    described = describe_pair(session, pair, project_name)
    assert pair.id is not None
    shadow_id = pair.id
    work.after_commit(lambda: hosting.runtime.shadows.remove_route(shadow_id))
    status = stop_model(work, hosting, project_name=project_name, version=str(described.shadow_version))
    return described, status

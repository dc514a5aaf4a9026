"""Review policies: which DetectAnomalies results go to human review, per project or per model version.

Owns the validation and storage of `ReviewPolicy` rows; it never routes a detection (`routing`) nor touches tasks.
A model version's own policy replaces the project's for that version. Policies are read per request, so a change
applies from the next DetectAnomalies.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.db.models import Project, ReviewPolicy, utcnow
from service.domain.projects import get_project
from service.domain.training_runs import get_model
from service.errors import ConflictException, ResourceNotFoundException, ValidationException

PROJECT_SCOPE = 0
"""`ReviewPolicy.model_version` of the project-wide policy."""
MAX_REVIEWS = 3
MAX_LEASE_SECONDS = 86_400
MIN_TTL_SECONDS, MAX_TTL_SECONDS = 60, 365 * 86_400
DEFAULT_LEASE_SECONDS = 300
DEFAULT_TTL_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class PolicySettings:
    """What a PutReviewPolicy asks for; any condition that matches routes a detection."""

    confidence_below: float | None = None
    score_band: tuple[float, float] | None = None
    sampling_percent: float = 0.0
    all_anomalous: bool = False
    hourly_cap: int | None = None
    daily_cap: int | None = None
    paused: bool = False
    required_reviews: int = 1
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    task_ttl_seconds: int = DEFAULT_TTL_SECONDS


def problems(settings: PolicySettings) -> list[str]:
    """Every reason the settings are refused (empty when they are valid)."""
    found = []
    if settings.confidence_below is not None and not 0.0 <= settings.confidence_below <= 1.0:
        found.append(f"ConfidenceBelow must be between 0 and 1; got {settings.confidence_below}")
    if settings.score_band is not None:
        low, high = settings.score_band
        if not 0.0 <= low <= high <= 1.0:
            found.append(f"ScoreBand needs 0 <= Low <= High <= 1; got Low {low}, High {high}")
    if not 0.0 <= settings.sampling_percent <= 100.0:
        found.append(f"SamplingPercent must be between 0 and 100; got {settings.sampling_percent}")
    for name, cap in (("HourlyCap", settings.hourly_cap), ("DailyCap", settings.daily_cap)):
        if cap is not None and cap < 0:
            found.append(f"{name} must not be negative; got {cap}")
    if not 1 <= settings.required_reviews <= MAX_REVIEWS:
        found.append(f"RequiredReviews must be between 1 and {MAX_REVIEWS}; got {settings.required_reviews}")
    if not 1 <= settings.lease_seconds <= MAX_LEASE_SECONDS:
        found.append(f"LeaseSeconds must be between 1 and {MAX_LEASE_SECONDS}; got {settings.lease_seconds}")
    if not MIN_TTL_SECONDS <= settings.task_ttl_seconds <= MAX_TTL_SECONDS:
        found.append(
            f"TaskTimeToLiveSeconds must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}; "
            f"got {settings.task_ttl_seconds}"
        )
    return found


def _scope(session: Session, *, project_name: str, model_version: str | None) -> tuple[Project, int]:
    project = get_project(session, name=project_name)
    if model_version is None:
        return project, PROJECT_SCOPE
    return project, get_model(session, project_name=project_name, version=model_version).version


def put_policy(
    session: Session, *, project_name: str, model_version: str | None, settings: PolicySettings, changed_by: str
) -> ReviewPolicy:
    """Replace the policy of the project (or of one of its model versions); its cap counters carry on."""
    found = problems(settings)
    if found:
        raise ValidationException("The review policy is not valid: " + "; ".join(found) + ".")
    project, scope = _scope(session, project_name=project_name, model_version=model_version)
    assert project.id is not None
    policy = _policy_row(session, project_id=project.id, scope=scope)
    if policy is None:
        policy = ReviewPolicy(project_id=project.id, model_version=scope, sampling_seed=secrets.token_hex(16))
    low, high = settings.score_band if settings.score_band is not None else (None, None)
    policy.confidence_below = settings.confidence_below
    policy.score_band_low, policy.score_band_high = low, high
    policy.sampling_percent = settings.sampling_percent
    policy.all_anomalous = settings.all_anomalous
    policy.hourly_cap, policy.daily_cap = settings.hourly_cap, settings.daily_cap
    policy.paused = settings.paused
    policy.required_reviews = settings.required_reviews
    policy.lease_seconds = settings.lease_seconds
    policy.task_ttl_seconds = settings.task_ttl_seconds
    policy.updated_at, policy.updated_by = utcnow(), changed_by
    session.add(policy)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictException(
            f"The review policy of project {project_name} was created by a concurrent request; retry.",
            resource_id=project_name,
            resource_type="REVIEW_POLICY",
        ) from None
    return policy


def _policy_row(session: Session, *, project_id: int, scope: int) -> ReviewPolicy | None:
    query = select(ReviewPolicy).where(ReviewPolicy.project_id == project_id, ReviewPolicy.model_version == scope)
    return session.exec(query).first()


def effective_policy(session: Session, *, project_id: int, model_version: int) -> ReviewPolicy | None:
    """The model version's own policy, else the project's, else None."""
    query = select(ReviewPolicy).where(
        ReviewPolicy.project_id == project_id, col(ReviewPolicy.model_version).in_([PROJECT_SCOPE, model_version])
    )
    rows = sorted(session.exec(query), key=lambda row: row.model_version, reverse=True)
    return rows[0] if rows else None


def describe_policy(session: Session, *, project_name: str, model_version: str | None) -> ReviewPolicy:
    """The policy that applies to the model version (or the project's); ResourceNotFound when there is none."""
    project, scope = _scope(session, project_name=project_name, model_version=model_version)
    assert project.id is not None
    policy = (
        _policy_row(session, project_id=project.id, scope=PROJECT_SCOPE)
        if scope == PROJECT_SCOPE
        else effective_policy(session, project_id=project.id, model_version=scope)
    )
    if policy is None:
        raise ResourceNotFoundException(
            f"Project {project_name} has no review policy; set one with PutReviewPolicy.",
            resource_id=project_name,
            resource_type="REVIEW_POLICY",
        )
    return policy

"""What DetectAnomalies reads from the database for a model version — the model (status, threshold), its shadow pair
and its review policy — cached for `LV_HOSTING_SETTINGS_TTL_S` so a request runs no database transaction.

Any commit on this engine that writes a table these come from (models, projects, review policies, shadow pairs)
empties the cache as it commits and again once its connection is back in the pool (so a read that raced the commit is
not kept), so StartModel, StopModel, a threshold or policy change and a model reaching HOSTED apply to
the next request here; another API replica's change (a shadow pair's too: reading a target brings this process's
route up to date) is read within the TTL. A cached entry also remembers the shadow route it was read under, so a pair
started or stopped in memory is never answered from a stale entry.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from service.caching import TtlCache
from service.db.engine import transaction
from service.db.models import Model, ReviewPolicy
from service.domain import shadow_traffic
from service.domain.review.policy import effective_policy
from service.domain.shadow_traffic import ShadowPlan, ShadowRecord
from service.domain.training_runs import get_model
from service.hosting.shadow import ShadowRoute, ShadowRunner

WATCHED_TABLES = frozenset({"model", "project", "reviewpolicy", "shadowmodel"})
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_DIRTY, _COMMITTED = "lv_hosted_targets_dirty", "lv_hosted_targets_committed"


@dataclass(frozen=True)
class HostedTarget:
    """The model that answers requests addressed to one version, its shadow's part and its review policy."""

    addressed_id: int
    model: Model
    shadow: ShadowPlan | None
    policy: ReviewPolicy | None
    route: ShadowRoute | None


class HostedTargets:
    def __init__(self, engine: Engine, shadows: ShadowRunner[ShadowRecord], ttl_s: float) -> None:
        self.engine = engine
        self.shadows = shadows
        self.cache: TtlCache[HostedTarget] = TtlCache(ttl_s)
        _clear_on_commit(engine, self.cache.clear)

    def cached(self, project_name: str, version: str) -> HostedTarget | None:
        """The fresh cached target, if any (never touches the database)."""
        target = self.cache.peek((project_name, version))
        if target is None or self.shadows.route(target.addressed_id) is not target.route:
            return None
        return target

    def load(self, project_name: str, version: str) -> HostedTarget:
        """The target, read from the database when it is not cached; raises ResourceNotFound for an unknown one."""
        target = self.cached(project_name, version)
        if target is not None:
            return target
        self.cache.discard((project_name, version))
        return self.cache.get((project_name, version), lambda: self._read(project_name, version))

    def _read(self, project_name: str, version: str) -> HostedTarget:
        with transaction(self.engine) as session:
            addressed = get_model(session, project_name=project_name, version=version)
            assert addressed.id is not None
            model, shadow = shadow_traffic.answering_model(session, self.shadows, addressed)
            route = self.shadows.route(addressed.id)
            policy = effective_policy(session, project_id=model.project_id, model_version=model.version)
        return HostedTarget(addressed_id=addressed.id, model=model, shadow=shadow, policy=policy, route=route)


def _clear_on_commit(engine: Engine, clear: Callable[[], None]) -> None:
    """Call `clear` when a transaction that wrote a watched table commits, and when its connection is checked in."""

    def after_execute(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        match = _WRITE.match(statement)
        if match and match[1].lower() in WATCHED_TABLES:
            connection.info[_DIRTY] = True

    def on_commit(connection: Connection) -> None:
        if connection.info.pop(_DIRTY, False):
            connection.info[_COMMITTED] = True
            clear()

    def on_rollback(connection: Connection) -> None:
        connection.info.pop(_DIRTY, None)

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_COMMITTED, False):
            clear()

    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)

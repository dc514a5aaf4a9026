"""Database engine, sessions and the unit of work."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger("openlv.db")

MAX_INTEGER = 2**31 - 1
"""The largest value an INTEGER column (ids, model versions) holds on every backend (PostgreSQL's is 32-bit)."""


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back entirely if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@dataclass
class UnitOfWork:
    """A transaction's session and what must happen only once it has committed (submitting a training job, starting
    or stopping inference units, purging a deleted model's objects, packaging): the one way to do after-commit work."""

    session: Session
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` after the commit, in the order registered; never if the transaction rolls back."""
        self._after_commit.append(action)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """`transaction`, then the registered after-commit actions. An action that fails is logged and the others still
    run: the commit stands, and each action's own recovery (start-up sweeps, retries) covers what it left undone."""
    with transaction(engine) as session:
        work = UnitOfWork(session)
        yield work
    for action in work._after_commit:
        try:
            action()
        except Exception:
            log.exception("an after-commit action failed")

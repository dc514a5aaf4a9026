"""Database engine, sessions and the unit of work."""

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, create_engine

log = logging.getLogger("openlv.db")

MAX_INTEGER = 2**31 - 1
"""The largest value an INTEGER column (ids, model versions) holds on every backend (PostgreSQL's is 32-bit)."""
from service.errors import ConflictException, ValidationException

PRIVATE_FILE_MODE = 0o600
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        restrict_sqlite_files(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def restrict_sqlite_files(url: str) -> None:
    """Make the database file only its owner can read, as the credentials are: SQLite gives its WAL and shared-memory
    files the database file's mode, so creating it 0600 (and tightening an existing one) covers them too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE_MODE))
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, PRIVATE_FILE_MODE)


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back entirely if it raises.

    The one place where database errors become what they mean to a caller: a unique-key or foreign-key violation (two
    requests racing to create the same thing, or to create in and delete the same parent) is a ConflictException; a
    value the database cannot hold (a NUL character on PostgreSQL, a number out of range) a ValidationException."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise ConflictException(
                "The request conflicts with a concurrent change to the same resource; describe it and retry."
            ) from exc
        except DataError as exc:
            session.rollback()
            raise ValidationException(f"A value in the request cannot be stored or looked up: {exc.orig}") from exc
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

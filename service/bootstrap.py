"""`python -m service.bootstrap`: prepare a deployment once, before its API replicas start (infra/ runs it).

It does what the first start of `lv server` does, and nothing else: create LV_HOME, migrate the database to head,
create the master key and the console's session key unless they exist (Kubernetes mounts them from a Secret), and
the first admin key (LV_ADMIN_ACCESS_KEY_ID / LV_ADMIN_SECRET_ACCESS_KEY, else a random pair written to
LV_HOME/credentials). It holds a lock throughout (PostgreSQL's advisory lock; on SQLite, whose database is on this
machine, a file lock in LV_HOME), so replicas whose init steps start together migrate and create keys one after
another instead of racing on the same DDL and the same key files. It prints no secret.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.auth.session import SessionSigner
from service.context import AppContext
from service.db.engine import build_engine
from service.settings import Settings, get_settings

# Any constant both replicas agree on: the advisory lock's key (pg_advisory_lock takes a bigint).
BOOTSTRAP_LOCK_KEY = 0x6F70656E6C76  # "openlv"


@contextmanager
def exclusive_bootstrap(engine: Engine, home: Path) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock (SQLite: a file lock in `home`) while the caller bootstraps."""
    if engine.dialect.name != "postgresql":
        home.mkdir(parents=True, exist_ok=True)
        with open(home / ".bootstrap.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": BOOTSTRAP_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": BOOTSTRAP_LOCK_KEY})


def bootstrap(settings: Settings) -> None:
    lock_engine = build_engine(settings.resolved_database_url)
    try:
        with exclusive_bootstrap(lock_engine, settings.resolved_home):
            context = AppContext.open(settings)
            SessionSigner(settings.session_key_file)
            context.close()
    finally:
        lock_engine.dispose()


def main() -> None:
    settings = get_settings()
    bootstrap(settings)
    print(f"openlv bootstrap done: database at head, keys in {settings.resolved_home}")


if __name__ == "__main__":
    main()

"""Throw-away databases for the backend matrix: a SQLite file, or a fresh database on the PostgreSQL server."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

POSTGRES_URL_ENV = "LV_TEST_POSTGRES_URL"


def postgres_available() -> bool:
    return bool(os.environ.get(POSTGRES_URL_ENV))


@contextmanager
def database_url(backend: str, tmp_dir: Path) -> Iterator[str]:
    """A SQLAlchemy URL for an empty database of `backend`, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / 'openlv.db'}"
        return
    admin_url = make_url(os.environ[POSTGRES_URL_ENV])
    name = f"openlv_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

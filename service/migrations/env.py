"""Alembic environment: the engine comes from the caller (the app or `alembic` with LV_ settings)."""

from alembic import context
from sqlmodel import SQLModel

import service.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from service.db.engine import build_engine
from service.settings import get_settings

config = context.config
engine = config.attributes.get("engine") or build_engine(get_settings().resolved_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

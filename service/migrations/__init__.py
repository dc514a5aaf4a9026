"""Alembic migrations; `upgrade_to_head` runs them on start."""

"""Metadata in SQLModel: SQLite under LV_HOME by default, PostgreSQL through LV_DATABASE_URL."""

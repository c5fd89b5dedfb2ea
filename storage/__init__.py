"""Persistence: SQLAlchemy 2.x models, repositories, a unit of work, Alembic migrations."""

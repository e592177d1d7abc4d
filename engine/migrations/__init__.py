"""Alembic migrations of the LAPOR Flow schema."""

"""The LAPOR Flow test suite (runs on SQLite and on PostgreSQL; see conftest.py)."""

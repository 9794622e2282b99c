"""Persistence of saved analyses and audits (SQLite by default, any SQLAlchemy URL otherwise)."""

"""Relational store: the pooled engine (`db.engine`), typed ORM models (`db.models`),
the schema's Alembic migrations (`db.migrate`, `db/migrations/`), the per-thread turn
lock (`db.locks`) and the Northwind / Superstore demo seed (`db.seed`)."""

"""Relational store: the process's pooled engine (`db.engine`), typed ORM models
(`db.models`) and the Northwind / Superstore demo seed (`db.seed`)."""

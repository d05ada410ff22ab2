"""Alembic's entry point: run the revisions on the connection `db.migrate` hands over.

`db.migrate.upgrade()` opens the connection, holds the schema lock and the transaction,
and passes the connection in `config.attributes["connection"]`. Run from the alembic
CLI (`alembic -c db/alembic.ini revision --autogenerate`), there is none, so one is
made from DATABASE_URL. The LangGraph checkpointer's tables are not ours: autogenerate
ignores them (`db.migrate.include_object`). SQLite needs batch mode to alter a table.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from db.migrate import include_object
from db.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run python -m db.migrate")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    from config import get_settings

    engine = create_engine(get_settings().database_url, poolclass=NullPool)
    try:
        with engine.begin() as own:
            run(own)
    finally:
        engine.dispose()


main()

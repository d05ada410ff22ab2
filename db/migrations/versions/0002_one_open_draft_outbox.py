"""At most one open draft per thread (a partial unique index), and the memory outbox.

Revision ID: 0002_one_open_draft_outbox
Revises: 0001_baseline
Create Date: 2026-11-30

Processes racing to start a thread's draft could each insert one; stores from before
this revision may therefore hold several open drafts for one thread, and the unique
index could not be built over them. So they are closed first: the newest open draft of
each thread is kept and the older ones are marked 'discarded' (their lines stay, for
the record). Then the index, then `memory_outbox` (order events customer memory must
learn, written in the confirmation's own transaction).

Stores made by `create_all` from the models of 356eeb0 already have both; what exists
is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_one_open_draft_outbox"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("db.migrate")

TZ = sa.DateTime(timezone=True)
OPEN_DRAFT_INDEX = "uq_drafts_one_open_per_thread"

drafts = sa.table(
    "drafts",
    sa.column("draft_id", sa.Integer),
    sa.column("thread_id", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", TZ),
    sa.column("updated_at", TZ),
)


def close_duplicate_open_drafts() -> int:
    """Discard every open draft that has a newer open draft in the same thread."""
    newer = drafts.alias("newer")
    has_newer = sa.exists().where(
        newer.c.thread_id == drafts.c.thread_id,
        newer.c.status == "open",
        sa.or_(
            newer.c.created_at > drafts.c.created_at,
            sa.and_(
                newer.c.created_at == drafts.c.created_at,
                newer.c.draft_id > drafts.c.draft_id,
            ),
        ),
    )
    closed = op.get_bind().execute(
        sa.update(drafts)
        .where(drafts.c.status == "open", drafts.c.thread_id.is_not(None), has_newer)
        .values(status="discarded", updated_at=datetime.now(UTC))
    )
    return closed.rowcount or 0


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if OPEN_DRAFT_INDEX not in {index["name"] for index in inspector.get_indexes("drafts")}:
        closed = close_duplicate_open_drafts()
        if closed:
            log.warning("closed %d older open draft(s) of threads that had several", closed)
        op.create_index(
            OPEN_DRAFT_INDEX,
            "drafts",
            ["thread_id"],
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
    if not inspector.has_table("memory_outbox"):
        op.create_table(
            "memory_outbox",
            sa.Column("outbox_id", sa.Integer, primary_key=True),
            sa.Column(
                "order_id",
                sa.Integer,
                sa.ForeignKey("orders.order_id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("event", sa.String(20), nullable=False),
            sa.Column("thread_id", sa.String(100)),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("next_attempt_at", TZ, nullable=False),
            sa.Column("delivered_at", TZ),
            sa.Column("last_error", sa.String(1000)),
        )
        op.create_index(
            "ix_memory_outbox_pending", "memory_outbox", ["delivered_at", "next_attempt_at"]
        )


def downgrade() -> None:
    op.drop_table("memory_outbox")
    op.drop_index(OPEN_DRAFT_INDEX, table_name="drafts")

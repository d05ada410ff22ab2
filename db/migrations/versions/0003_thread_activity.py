"""A conversation's title and last activity, for the list of one's recent conversations.

Revision ID: 0003_thread_activity
Revises: 0002_one_open_draft_outbox
Create Date: 2026-12-01

`thread_owners` already names each thread's owner; the Chat page's sidebar lists an
owner's recent conversations, so each thread also gets the first words of its first
message (`title`) and the time of its last turn (`last_active_at`), indexed by owner.
Existing threads keep no title (the list shows their id) and count as last active when
they were claimed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_thread_activity"
down_revision: str | Sequence[str] | None = "0002_one_open_draft_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
INDEX = "ix_thread_owners_owner_active"


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("thread_owners")}
    with op.batch_alter_table("thread_owners") as table:
        if "title" not in columns:
            table.add_column(sa.Column("title", sa.String(120)))
        if "last_active_at" not in columns:
            table.add_column(sa.Column("last_active_at", TZ))
    owners = sa.table("thread_owners", sa.column("created_at", TZ), sa.column("last_active_at", TZ))
    op.get_bind().execute(
        sa.update(owners)
        .where(owners.c.last_active_at.is_(None))
        .values(last_active_at=owners.c.created_at)
    )
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("thread_owners")}
    if INDEX not in indexes:
        op.create_index(INDEX, "thread_owners", ["owner", "last_active_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="thread_owners")
    with op.batch_alter_table("thread_owners") as table:
        table.drop_column("last_active_at")
        table.drop_column("title")

"""The order header (customer PO, requested date, ship-to, notes) and the audit trail.

Revision ID: 0004_order_header_events
Revises: 0003_thread_activity
Create Date: 2026-12-01

Drafts and orders gain four nullable header columns, so every existing draft and order
stays as it is (an open draft still confirms: with an empty header). `order_events` is
new: one row per draft change or order event, with its actor and time; existing orders
have no trail before this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_order_header_events"
down_revision: str | Sequence[str] | None = "0003_thread_activity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
HEADER = (
    ("customer_po", sa.String(50)),
    ("requested_date", sa.Date()),
    ("ship_to", sa.String(300)),
    ("notes", sa.String(1000)),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table_name in ("drafts", "orders"):
        present = {column["name"] for column in inspector.get_columns(table_name)}
        missing = [(name, kind) for name, kind in HEADER if name not in present]
        if missing:
            with op.batch_alter_table(table_name) as table:
                for name, kind in missing:
                    table.add_column(sa.Column(name, kind))
    if not inspector.has_table("order_events"):
        op.create_table(
            "order_events",
            sa.Column("event_id", sa.Integer, primary_key=True),
            sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.draft_id", ondelete="CASCADE")),
            sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.order_id", ondelete="CASCADE")),
            sa.Column("kind", sa.String(30), nullable=False),
            sa.Column("detail", sa.JSON, nullable=False),
            sa.Column("actor", sa.String(200)),
            sa.Column("created_at", TZ, nullable=False),
        )
        op.create_index("ix_order_events_draft", "order_events", ["draft_id", "event_id"])
        op.create_index("ix_order_events_order", "order_events", ["order_id", "event_id"])


def downgrade() -> None:
    op.drop_table("order_events")
    for table_name in ("drafts", "orders"):
        with op.batch_alter_table(table_name) as table:
            for name, _ in reversed(HEADER):
                table.drop_column(name)

"""Stock held while drafting: a draft's hold time and each line's held units.

Revision ID: 0005_stock_holds
Revises: 0004_order_header_events
Create Date: 2026-12-01

An open draft holds its lines' stock until `drafts.hold_until`; each line records the
units it holds (`draft_lines.held`, at most its quantity). Existing drafts hold nothing
(NULL, 0) until their next change takes a hold, so an upgrade never takes stock from
anyone. `ix_draft_lines_product` serves the sum of live holds on a product.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_stock_holds"
down_revision: str | Sequence[str] | None = "0004_order_header_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
INDEX = "ix_draft_lines_product"
CHECK = "ck_draft_lines_held_nonnegative"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "hold_until" not in {c["name"] for c in inspector.get_columns("drafts")}:
        with op.batch_alter_table("drafts") as table:
            table.add_column(sa.Column("hold_until", TZ))
    if "held" not in {c["name"] for c in inspector.get_columns("draft_lines")}:
        with op.batch_alter_table("draft_lines") as table:
            table.add_column(sa.Column("held", sa.Integer, nullable=False, server_default="0"))
            table.create_check_constraint(CHECK, "held >= 0")
    if INDEX not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("draft_lines")}:
        op.create_index(INDEX, "draft_lines", ["product_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="draft_lines")
    with op.batch_alter_table("draft_lines") as table:
        table.drop_constraint(CHECK, type_="check")
        table.drop_column("held")
    with op.batch_alter_table("drafts") as table:
        table.drop_column("hold_until")

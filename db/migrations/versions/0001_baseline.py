"""Baseline: the schema of the last release made without migrations (commit f2de414).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-30

Until then every process ran `create_all` at start-up, so stores in the field hold any
earlier shape of this schema and no `alembic_version`. Alembic sees such a store at
"base" and runs this revision on it, so the revision brings *any* of them here, and is
then stamped like a fresh one:

- tables an older release did not have are created (drafts and draft_lines arrived in
  90fee2f, thread_owners in 0b548d7, draft_open_items in ad992bb);
- columns it did not have are added: products.description (5b3a261), and
  orders.draft_id (db0ced6), which replaced drafts.order_id - its links are copied over
  before that column is dropped.

On an empty database it simply creates every table. The definitions are frozen here on
purpose: later model changes belong in later revisions, never in this one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
MONEY = sa.Numeric(12, 2)


def _columns(table: str) -> set[str]:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(table):
        return set()
    return {column["name"] for column in inspector.get_columns(table)}


def _create_table(name: str, *elements: sa.SchemaItem) -> bool:
    """Create `name` unless an older release already did; True when it was created."""
    if sa.inspect(op.get_bind()).has_table(name):
        return False
    op.create_table(name, *elements)
    return True


def upgrade() -> None:
    if _create_table(
        "customers",
        sa.Column("customer_id", sa.String(5), primary_key=True),
        sa.Column("company_name", sa.String(100), nullable=False),
        sa.Column("contact_name", sa.String(100)),
        sa.Column("city", sa.String(60)),
        sa.Column("country", sa.String(60)),
    ):
        op.create_index("ix_customers_company_name", "customers", ["company_name"])

    if _create_table(
        "products",
        sa.Column("product_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("quantity_per_unit", sa.String(60)),
        sa.Column("description", sa.String(300)),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("units_in_stock", sa.Integer, nullable=False),
        sa.Column("discontinued", sa.Boolean, nullable=False),
        sa.Column("sku", sa.String(40), unique=True),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("units_in_stock >= 0", name="ck_products_stock_not_negative"),
        sa.CheckConstraint("unit_price >= 0", name="ck_products_price_not_negative"),
    ):
        op.create_index("ix_products_name", "products", ["name"])
    elif "description" not in _columns("products"):
        op.add_column("products", sa.Column("description", sa.String(300)))

    if _create_table(
        "drafts",
        sa.Column("draft_id", sa.Integer, primary_key=True),
        sa.Column("thread_id", sa.String(100)),
        sa.Column("customer_id", sa.String(5), sa.ForeignKey("customers.customer_id")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    ):
        op.create_index("ix_drafts_thread_status", "drafts", ["thread_id", "status"])

    if _create_table(
        "orders",
        sa.Column("order_id", sa.Integer, primary_key=True),
        sa.Column(
            "customer_id", sa.String(5), sa.ForeignKey("customers.customer_id"), nullable=False
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("idempotency_key", sa.String(100), unique=True),
        sa.Column("thread_id", sa.String(100)),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.draft_id"), unique=True),
        sa.Column("created_by", sa.String(200)),
        sa.Column("cancelled_at", TZ),
        sa.CheckConstraint("total >= 0", name="ck_orders_total_not_negative"),
    ):
        op.create_index("ix_orders_customer_created", "orders", ["customer_id", "created_at"])
    elif "draft_id" not in _columns("orders"):
        _link_orders_to_drafts()
    if "order_id" in _columns("drafts"):
        _drop_drafts_order_id()

    _create_table(
        "order_lines",
        sa.Column(
            "order_id",
            sa.Integer,
            sa.ForeignKey("orders.order_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("discount", sa.Numeric(4, 2), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        sa.CheckConstraint("discount >= 0 AND discount < 1", name="ck_order_lines_discount"),
    )
    _create_table(
        "thread_owners",
        sa.Column("thread_id", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    _create_table(
        "draft_lines",
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey("drafts.draft_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_draft_lines_quantity_positive"),
    )
    _create_table(
        "draft_open_items",
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey("drafts.draft_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("phrase", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Integer),
        sa.Column("question", sa.String(1000), nullable=False),
        sa.Column("candidates", sa.Text, nullable=False),
    )


def _link_orders_to_drafts() -> None:
    """orders.draft_id, as `create_all` makes it (a unique, nullable foreign key).

    The constraints carry PostgreSQL's own default names, so an adopted store and a new
    one look alike; on SQLite batch mode rebuilds the table (ALTER cannot add either).
    """
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("draft_id", sa.Integer))
        batch.create_foreign_key("orders_draft_id_fkey", "drafts", ["draft_id"], ["draft_id"])
        batch.create_unique_constraint("orders_draft_id_key", ["draft_id"])


def _drop_drafts_order_id() -> None:
    """Before db0ced6 a draft named its order; since then the order names its draft."""
    op.execute(
        "UPDATE orders SET draft_id = (SELECT drafts.draft_id FROM drafts "
        "WHERE drafts.order_id = orders.order_id) "
        "WHERE draft_id IS NULL AND EXISTS "
        "(SELECT 1 FROM drafts WHERE drafts.order_id = orders.order_id)"
    )
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("order_id")


def downgrade() -> None:
    for table in (
        "draft_open_items",
        "draft_lines",
        "thread_owners",
        "order_lines",
        "orders",
        "drafts",
        "products",
        "customers",
    ):
        op.drop_table(table)

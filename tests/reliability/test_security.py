"""Security: threads belong to their owner, SQL stays parameterised under injection.

- One API key can never read or continue another key's thread (its draft, its recalled
  customer memories, its pending confirmation), and a browser session can never take
  over another session's thread, even with the other's thread id in hand.
- Injection strings reach every text-taking path - catalog search, customer lookup,
  every agent tool that takes a customer or a query, the API's query parameters - and
  the tables are checked afterwards, not just the code grepped. A grep-level check that
  no product code builds SQL from strings is kept too, as a tripwire.
"""

from __future__ import annotations

import ast
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolMessage
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from config import PROJECT_ROOT
from db.models import Base, Customer, Order, Product
from orders.customers import CustomerIndex

# store / catalog / make_desk: a seeded store and desks around a scripted model.
from tests.agents.fixtures_loop import (  # noqa: F401
    catalog_fixture,
    loop_collection_fixture,
    make_desk_fixture,
    store_fixture,
)
from tests.fakes import ScriptedChatModel, call, calls_tools, says

INJECTIONS = [
    "Robert'); DROP TABLE orders;--",
    "' OR '1'='1",
    "' OR 1=1 --",
    "ALFKI' --",
    "ALFKI'; UPDATE products SET units_in_stock = 0; --",
    "%'; DELETE FROM products; --",
    "' UNION SELECT customer_id, company_name FROM customers --",
    '"; DROP TABLE customers; --',
    "1; TRUNCATE order_lines",
    "\\'; DROP TABLE drafts; --",
    "%",
    "_",
    "*",
    "$where: 1 == 1",
    '{"$ne": null}',
    "chai\x00'; DROP TABLE products; --",
    "'; SELECT pg_sleep(5); --",
    "ALFKI\u2019 OR \u20181\u2019=\u20181",
]


def snapshot(engine: Engine) -> dict[str, object]:
    """Row counts of every table, plus the catalog and customers as they stand."""
    with Session(engine) as session:
        counts = {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
        products = session.execute(
            select(Product.product_id, Product.units_in_stock, Product.unit_price).order_by(
                Product.product_id
            )
        ).all()
        customers = session.execute(
            select(Customer.customer_id, Customer.company_name).order_by(Customer.customer_id)
        ).all()
    return {"counts": counts, "products": products, "customers": customers}


injection_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.builds(
        lambda a, b, c: a + b + c,
        st.text(max_size=20),
        st.sampled_from(INJECTIONS),
        st.text(max_size=20),
    ),
)


# --- SQL under injection ---------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=injection_text)
def test_every_text_tool_takes_injection_as_data(make_desk, store: Engine, text: str) -> None:  # noqa: F811
    """The model passes hostile text to each tool: answers come back, tables stay as they were."""
    before = snapshot(store)
    model = ScriptedChatModel(
        script=[
            calls_tools(
                call("search_catalog", query=text),
                call("find_customer", name_or_code=text),
                call("recent_orders", customer_id=text),
                call("usual_products", customer_id=text),
                call("recall_customer", customer_id=text, query=text),
                call("remember", customer_id=text, note=text),
                call("draft_order", customer_id=text, lines=[{"product_id": 1, "quantity": 1}]),
            ),
            says("Done."),
        ]
    )
    desk = make_desk(model)
    thread_id = f"inj-{uuid.uuid4().hex[:12]}"

    turn = desk.chat(thread_id, "look these up")

    assert turn.error is None, turn.error
    answers = [m for m in desk.history(thread_id) if isinstance(m, ToolMessage)]
    assert len(answers) == 7
    for answer in answers:
        json.loads(answer.content)  # a tool's answer, not a database error
    assert desk.current_draft(thread_id) is None  # not a customer: no draft
    assert snapshot(store) == before


@pytest.mark.parametrize("text", INJECTIONS)
def test_customer_lookup_and_search_take_injection_as_data(
    catalog,
    store: Engine,
    text: str,  # noqa: F811
) -> None:
    before = snapshot(store)
    with Session(store) as session:
        customers = CustomerIndex.load(session=session)

    found = customers.lookup(text)
    catalog.search(text)
    customers.find_in(f"{text} wants 3 chai")

    if found.best is not None and not found.ambiguous:
        # A near-miss is allowed (ALFKI' -- is nearly ALFKI); a made-up customer is not.
        with Session(store) as session:
            assert session.get(Customer, found.best.customer_id) is not None
    assert snapshot(store) == before


# A tripwire, not the proof: SQL is built by SQLAlchemy, never from strings.
PRODUCT_DIRS = ["agents", "api", "app.py", "config.py", "db", "memory", "orders", "rag", "ui"]
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executescript"}


def built_strings(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        first = node.args[0]
        formatted = isinstance(first, ast.JoinedStr | ast.BinOp) or (
            isinstance(first, ast.Call) and getattr(first.func, "attr", None) == "format"
        )
        if name in SQL_CALLS and formatted:
            yield node


def test_no_product_code_formats_sql_strings() -> None:
    files = [
        path
        for entry in PRODUCT_DIRS
        for path in (
            [PROJECT_ROOT / entry]
            if entry.endswith(".py")
            else sorted((PROJECT_ROOT / entry).rglob("*.py"))
        )
    ]
    assert len(files) > 20
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {ast.unparse(node)}"
        for path in files
        for node in built_strings(ast.parse(Path(path).read_text(), str(path)))
    ]
    # The one allowed: SQLite's busy timeout, an int() of a validated setting (PRAGMAs
    # take no bound parameters).
    assert found == ["db/engine.py: cursor.execute(f'PRAGMA busy_timeout={int(busy_ms)}')"]


# --- threads belong to their owner -------------------------------------------------------


def test_a_browser_session_cannot_take_over_another_sessions_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.engine import create_db_engine, init_schema
    from db.seed import seed
    from tests.ui.conftest import fresh_clients
    from tests.ui.test_pages import app, say, table

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    from config import get_settings

    get_settings.cache_clear()
    fresh_clients()
    engine = create_db_engine(get_settings())
    try:
        init_schema(engine)
        seed(engine=engine)
        first = say(app(), "Alfreds Futterkiste: 3 tofu")
        stolen = first.session_state["claimed"]

        second = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
        second.query_params["c"] = stolen  # a forged or leaked thread id in the link
        second.run()

        assert not second.exception
        assert second.session_state["claimed"] != stolen
        assert not second.dataframe  # the other session's draft is not shown
        say(second, "yes")
        assert table(first) == {14: 3}
        with Session(engine) as session:
            assert session.scalar(select(func.count(Order.order_id))) == 830  # nothing confirmed
    finally:
        fresh_clients()
        engine.dispose()

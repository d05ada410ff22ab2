"""The Orders, Catalog, Memory and Prompt lab pages and the admin rule, in AppTest.

Real store underneath, as in test_pages.py: a SQLite file seeded with Northwind, Chroma on
disk in the test's tmp dir, the real embedding model and the offline order model. Orders:
a row opens its order, cancel asks in a dialog and its toast survives the rerun, paging
says where it is, the date filter spans the data's own range. Catalog: category and
in-stock filters, scores behind a toggle, Re-index for admins only. Admin: in demo mode
everyone is one; with sign-in only ADMIN_EMAILS are, and an admin page refuses others
even when opened by its own path. Memory: delete asks first and Undo restores it whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from config import PROJECT_ROOT, ConfigError, get_settings, load_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from orders.book import OrderBook
from ui.format import money

APP = str(PROJECT_ROOT / "app.py")
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}}
BOSS = "Boss@Example.com"


@pytest.fixture
def store_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A seeded Northwind store (and Chroma dir) that the app will open; its engine."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    monkeypatch.setenv("ADMIN_EMAILS", f"{BOSS}, other@example.com")
    get_settings.cache_clear()
    st.cache_resource.clear()
    engine = create_db_engine(get_settings())
    init_schema(engine)
    seed(engine=engine)
    yield engine
    st.cache_resource.clear()
    engine.dispose()


@pytest.fixture
def book(store_engine: Engine) -> OrderBook:
    return OrderBook(store_engine)


def app(page: str | None = None, *, user: str | None = None) -> AppTest:
    """The app (on `page`); signed in as `user` with sign-in configured, else demo mode."""
    at = AppTest.from_file(APP, default_timeout=90)
    if user is not None:
        at.secrets = AUTH
        at.user = {"is_logged_in": True, "email": user}
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def labelled(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.subheader, *at.caption, *at.info])


def select_row(at: AppTest, row: int) -> AppTest:
    """Click a row of the orders table (as the browser reports a selection)."""
    key = f"orders_table_{at.session_state['orders_view']}_{at.session_state['orders_page']}"
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


# --- Orders ---------------------------------------------------------------------------


def test_orders_page_pages_through_the_history_with_its_total(book: OrderBook) -> None:
    at = app("ui/orders.py")
    assert "Showing **1–50** of **830** orders · page 1 of 17" in texts(at)
    assert len(at.dataframe[0].value) == 50
    assert at.date_input[0].value == (date(1996, 7, 4), date(1998, 5, 6))  # the data's range
    at.number_input(key="orders_page").set_value(2).run()
    assert "Showing **51–100** of **830** orders · page 2 of 17" in texts(at)
    fifty_first = book.orders(limit=1, offset=50).orders[0].order_id
    assert at.dataframe[0].value["order"].iloc[0] == fifty_first


def test_a_filter_starts_again_on_page_one(store_engine: Engine) -> None:
    at = app("ui/orders.py")
    at.number_input(key="orders_page").set_value(3).run()
    assert "Showing **101–150** of **830** orders" in texts(at)
    labelled(at.selectbox, "Status").set_value("confirmed").run()
    assert "Showing **1–50** of **830** orders" in texts(at)
    labelled(at.selectbox, "Customer").set_value("ALFKI").run()
    assert not at.exception, at.exception
    assert "Showing **1–6** of **6** orders" in texts(at)
    assert set(at.dataframe[0].value["customer"]) == {"Alfreds Futterkiste"}


def test_clicking_a_row_opens_the_order_with_one_money_format(
    store_engine: Engine, book: OrderBook
) -> None:
    at = app("ui/orders.py")
    assert "Click a row to open the order." in texts(at)
    newest = book.orders(limit=1).orders[0]
    select_row(at, 0)
    assert f"Order {newest.order_id} · {newest.customer_name}" in texts(at)
    assert f"total **{money(newest.total)}**" in texts(at)
    assert "," in money(newest.total)  # 11077 is over $1,000: the thousands are grouped
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["total"]["type_config"]["format"] == "dollar", config
    lines = json.loads(at.dataframe[1].proto.columns)
    assert lines["unit price"]["type_config"]["format"] == "dollar", lines


def test_cancel_asks_first_and_its_toast_survives_the_rerun(
    store_engine: Engine, book: OrderBook
) -> None:
    at = app("ui/orders.py")
    select_row(at, 0)
    order = book.orders(limit=1).orders[0]
    stock_before = {p.product_id: p.units_in_stock for p in book.products()}
    click(at, f"Cancel order {order.order_id}")
    question = (
        f"Cancel order **{order.order_id}** for **{order.customer_name}**? Its stock goes back."
    )
    assert question in texts(at)
    click(at, "Keep it")  # changed their mind: nothing happens
    assert book.order(order.order_id).status == "confirmed"
    assert question not in texts(at) and not at.toast

    click(at, f"Cancel order {order.order_id}")
    click(at, "Yes, cancel it")
    assert [t.value for t in at.toast] == [
        f"Order {order.order_id} for {order.customer_name} cancelled; its stock is back."
    ]
    assert book.order(order.order_id).status == "cancelled"
    assert "**cancelled**" in texts(at)  # the open order says so
    assert f"Cancel order {order.order_id}" not in labels(at)
    stock_after = {p.product_id: p.units_in_stock for p in book.products()}
    for line in order.lines:
        assert stock_after[line.product_id] == stock_before[line.product_id] + line.quantity
    at.run()
    assert not at.toast  # shown once
    # The trail says who cancelled it: this browser session, by its key's digest.
    cancelled = [e for e in book.events(order.order_id) if e.kind == "cancelled"]
    assert len(cancelled) == 1 and (cancelled[0].actor or "").startswith("browser session ")


def test_orders_charts_by_month_and_by_units(store_engine: Engine) -> None:
    at = app("ui/orders.py")
    headers = [h.value for h in at.subheader]
    assert "Orders per month" in headers and "Top products by units sold" in headers
    assert "July 1996 – May 1998, confirmed orders" in texts(at)
    charts = [
        e for column in at.columns for e in column if getattr(e, "type", "") == "vega_lite_chart"
    ]
    encodings = [json.loads(chart.proto.spec)["encoding"] for chart in charts]
    assert encodings[0]["x"]["field"] == "month"
    # Bars in units order, not by name (Altair's default for a nominal axis).
    assert encodings[1]["y"]["sort"] == {"field": "units", "order": "descending"}


# --- Catalog --------------------------------------------------------------------------


def test_catalog_filters_by_category_and_stock(store_engine: Engine) -> None:
    at = app("ui/catalog.py")
    assert len(at.dataframe[0].value) == 77 and "77 products" in texts(at)
    labelled(at.toggle, "In stock only").set_value(True).run()
    orderable = at.dataframe[0].value
    assert 0 < len(orderable) < 77 and "products shown" in texts(at)
    assert (orderable["available"] > 0).all() and not orderable["discontinued"].any()
    labelled(at.selectbox, "Category").set_value("Condiments").run()
    both = at.dataframe[0].value
    assert 0 < len(both) and set(both["category"]) == {"Condiments"}
    assert "Chef Anton's Gumbo Mix" not in set(both["product"])  # discontinued, none left
    labelled(at.toggle, "In stock only").set_value(False).run()
    condiments = at.dataframe[0].value
    assert set(condiments["category"]) == {"Condiments"} and len(condiments) > len(both)


def test_catalog_scores_only_with_details(store_engine: Engine) -> None:
    at = app("ui/catalog.py")
    labelled(at.text_input, "Search the catalog").set_value("mozarella").run()
    results = at.dataframe[0].value
    assert results["product"].iloc[0] == "Mozzarella di Giovanni"
    assert "score" not in results.columns and "meaning" not in results.columns
    labelled(at.toggle, "Details").set_value(True).run()
    results = at.dataframe[0].value
    assert {"score", "spelling", "meaning"} <= set(results.columns)
    assert 0 < results["score"].iloc[0] <= 1


def test_reindex_is_for_admins_only(store_engine: Engine) -> None:
    assert "Re-index catalog" in labels(app("ui/catalog.py"))  # demo mode: everyone
    assert "Re-index catalog" in labels(app("ui/catalog.py", user=BOSS.lower()))
    assert "Re-index catalog" not in labels(app("ui/catalog.py", user="sales@example.com"))


# --- Admin ----------------------------------------------------------------------------


def test_demo_mode_everyone_reaches_the_admin_pages(store_engine: Engine) -> None:
    assert any(t.value == "Customer memory" for t in app("ui/memory.py").title)
    assert any(t.value == "Prompt lab" for t in app("ui/prompt_lab.py").title)


@pytest.mark.parametrize("page", ["ui/memory.py", "ui/prompt_lab.py"])
def test_a_non_admin_cannot_reach_an_admin_page(store_engine: Engine, page: str) -> None:
    at = app(user="sales@example.com")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)  # not in this user's navigation
    # The page refuses by itself too, when run by its own path.
    direct = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=90)
    direct.secrets = AUTH
    direct.user = {"is_logged_in": True, "email": "sales@example.com"}
    direct.run()
    assert not direct.exception, direct.exception
    assert [t.value for t in direct.title] == ["Admins only"]
    assert "ADMIN_EMAILS" in direct.error[0].value
    admin = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=90)
    admin.secrets = AUTH
    admin.user = {"is_logged_in": True, "email": BOSS.upper()}  # case does not matter
    admin.run()
    assert not admin.exception and "Admins only" not in [t.value for t in admin.title]


def test_admin_emails_are_comma_separated_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_EMAILS", " Boss@Example.com ,ops@example.org,")
    assert load_settings().admin_emails == ["boss@example.com", "ops@example.org"]
    monkeypatch.setenv("ADMIN_EMAILS", "")
    assert load_settings().admin_emails == []
    monkeypatch.setenv("ADMIN_EMAILS", "boss@example.com, nobody")
    with pytest.raises(ConfigError, match="ADMIN_EMAILS.*nobody"):
        load_settings()


# --- Memory ---------------------------------------------------------------------------


def test_memory_delete_asks_and_undo_restores_it_whole(store_engine: Engine) -> None:
    at = app("ui/memory.py")
    at.text_area[0].set_value("Always wants the 1 kg packs")
    labelled(at.selectbox, "Kind").set_value("preference")
    click(at, "Add memory")
    assert "Always wants the 1 kg packs" in texts(at)
    from ui.resources import memory_store

    store = memory_store()
    (kept,) = [m for m in store.list("ALFKI") if m.text == "Always wants the 1 kg packs"]

    click(at, "Delete")
    assert "> Always wants the 1 kg packs" in texts(at)  # the dialog shows what goes
    click(at, "Keep it")
    assert store.get(kept.id) == kept

    click(at, "Delete")
    click(at, "Yes, delete it")
    assert [t.value for t in at.toast] == ["Memory deleted."]
    assert store.get(kept.id) is None
    assert not any("Always wants" in m.value for m in at.markdown)
    assert any("Deleted: “Always wants the 1 kg packs”" in i.value for i in at.info)

    click(at, "Undo")
    assert store.get(kept.id) == kept  # same id, text, kind, thread and creation time
    assert [t.value for t in at.toast] == ["Memory restored."]
    assert "Always wants the 1 kg packs" in texts(at) and "Undo" not in labels(at)

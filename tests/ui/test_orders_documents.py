"""The Orders page's order detail in AppTest: the confirmation's download buttons, the
header caption, the PO filter and the audit trail, over a real seeded SQLite store.

The download buttons are deferred (the documents are made on the click): a test clicks
one the way the browser does, through the run's own MediaFileManager, and reads the file
it serves - a PDF pypdf opens, or UTF-8 text - with its file name and media type. One
real-browser test (headless Chromium) downloads both from a served app.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit.testing.v1.app_test as app_test
from pypdf import PdfReader
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.orm import Session
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from config import PROJECT_ROOT
from db.models import Order
from orders.book import OrderBook
from orders.header import format_day
from tests.ui.browser_support import chromium_page, expect_visible, needs_chromium, served_app
from tests.ui.test_browser_pages import click_row
from ui.documents import PDF_LABEL, TEXT_LABEL

APP = str(PROJECT_ROOT / "app.py")
PO = "PO-7781"


@dataclass
class Served:
    """A file a download button served: what the browser would save."""

    content: bytes
    mimetype: str
    filename: str | None


class Media:
    """The media file managers AppTest makes (one per run), so a test can click a deferred
    download button as the browser does."""

    def __init__(self) -> None:
        self.managers: list[MediaFileManager] = []
        self.stores: dict[int, MemoryMediaFileStorage] = {}

    def download(self, button: Any) -> Served:
        file_id = button.proto.deferred_file_id
        assert file_id, "the button's document is made on the click"
        manager = self.managers[-1]
        url = manager.execute_deferred(file_id)
        served = self.stores[id(manager)].get_file(url.rsplit("/", 1)[1])
        return Served(bytes(served.content), served.mimetype, served.filename)


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> Media:
    recorded = Media()

    class RecordingManager(MediaFileManager):
        def __init__(self, storage: MemoryMediaFileStorage) -> None:
            super().__init__(storage)
            recorded.managers.append(self)
            recorded.stores[id(self)] = storage

    monkeypatch.setattr(app_test, "MediaFileManager", RecordingManager)
    return recorded


@pytest.fixture
def book(seeded: str, store_engine: Engine) -> OrderBook:
    return OrderBook(store_engine)


def orders_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("ui/orders.py").run()
    assert not at.exception, at.exception
    return at


def select_row(at: AppTest, row: int) -> AppTest:
    key = f"orders_table_{at.session_state['orders_view']}_{at.session_state['orders_page']}"
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.download_button if b.label == label)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info])


def give_header(engine: Engine, order_id: int) -> date:
    deliver = date.today() + timedelta(days=14)
    with Session(engine) as session:
        session.execute(
            update(Order)
            .where(Order.order_id == order_id)
            .values(customer_po=PO, requested_date=deliver, notes="use the back door, dock 3")
        )
        session.commit()
    return deliver


def test_an_open_order_downloads_its_confirmation(media: Media, book: OrderBook) -> None:
    at = select_row(orders_page(), 0)
    newest = book.orders(limit=1).orders[0]
    assert {b.label for b in at.download_button} == {PDF_LABEL, TEXT_LABEL}

    pdf = media.download(button(at, PDF_LABEL))
    assert (pdf.mimetype, pdf.filename) == ("application/pdf", f"order-{newest.order_id}.pdf")
    text = pdf_text(pdf.content)
    assert f"Order confirmation {newest.order_id}" in text and newest.customer_name in text
    line = newest.lines[0]
    assert f"{line.quantity} {line.product_name}" in text

    mail = media.download(button(at, TEXT_LABEL))
    assert (mail.mimetype, mail.filename) == (
        "text/plain; charset=utf-8",
        f"order-{newest.order_id}.txt",
    )
    assert mail.content.decode("utf-8").startswith(f"Dear {newest.customer_name},")


def test_no_order_open_no_buttons(media: Media, book: OrderBook) -> None:
    at = orders_page()
    assert not at.download_button


def test_the_document_is_the_order_at_the_click(
    media: Media, book: OrderBook, store_engine: Engine
) -> None:
    at = select_row(orders_page(), 0)
    newest = book.orders(limit=1).orders[0]
    with Session(store_engine) as session:  # cancelled elsewhere after the page was drawn
        session.execute(
            update(Order).where(Order.order_id == newest.order_id).values(status="cancelled")
        )
        session.commit()
    mail = media.download(button(at, TEXT_LABEL)).content.decode("utf-8")
    assert f"CANCELLED: order {newest.order_id} was cancelled" in mail


def test_the_po_filter_finds_the_order_and_its_header_shows(
    media: Media, book: OrderBook, store_engine: Engine
) -> None:
    deliver = give_header(store_engine, 10250)
    at = orders_page()
    next(t for t in at.text_input if t.label == "PO number").set_value(" po-7781 ").run()
    assert not at.exception, at.exception
    assert "Showing **1–1** of **1** orders" in texts(at)
    table = at.dataframe[0].value
    assert list(table["order"]) == [10250] and list(table["PO"]) == [PO]
    select_row(at, 0)
    caption = f"PO {PO} · deliver by {format_day(deliver)} · ship to Rio de Janeiro, Brazil"
    assert caption in texts(at)
    text = pdf_text(media.download(button(at, PDF_LABEL)).content)
    assert f"Your PO number {PO}" in text and f"Requested delivery {format_day(deliver)}" in text


def test_a_po_nobody_has_matches_nothing(book: OrderBook) -> None:
    at = orders_page()
    next(t for t in at.text_input if t.label == "PO number").set_value("PO-0000").run()
    assert "No orders match these filters." in texts(at)


def test_the_order_detail_has_its_audit_trail(book: OrderBook) -> None:
    at = select_row(orders_page(), 0)
    labels = [e.label for e in at.expander]
    assert "Audit trail: who changed what, and when" in labels
    # Northwind's history was placed before the trail was kept: it says so.
    assert "No recorded changes: this order was placed before the audit trail." in texts(at)


@needs_chromium
def test_the_browser_downloads_both_documents(tmp_path: Path) -> None:
    """The deferred documents are made by the real server on a real click (its callable
    runs outside the script run) and saved under their file names."""
    from playwright.sync_api import sync_playwright

    with served_app(tmp_path) as (address, url), sync_playwright() as playwright:
        engine = create_engine(url)
        newest = OrderBook(engine).orders(limit=1).orders[0]
        browser, page = chromium_page(playwright, height=1700)
        try:
            page.goto(f"{address}/orders", timeout=60_000)
            table = page.get_by_test_id("stDataFrame").first
            expect_visible(table)
            click_row(page, table, 0)
            expect_visible(page.get_by_text(f"Order {newest.order_id} · {newest.customer_name}"))
            saved = {}
            for label in (PDF_LABEL, TEXT_LABEL):
                with page.expect_download(timeout=60_000) as download:
                    page.get_by_role("button", name=label).click()
                saved[download.value.suggested_filename] = Path(download.value.path()).read_bytes()
        finally:
            browser.close()
            engine.dispose()
    pdf, text = saved[f"order-{newest.order_id}.pdf"], saved[f"order-{newest.order_id}.txt"]
    assert f"Order confirmation {newest.order_id}" in pdf_text(pdf)
    assert text.decode("utf-8").startswith(f"Dear {newest.customer_name},")

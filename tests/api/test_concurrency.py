"""50 conversations at once through a real uvicorn server: each ends in its own order, once.

Each thread drafts an order for its own customer (one of 50) and product quantity, then
confirms it - half by saying "yes", half with /approve. Every draft a thread is shown must
be its own; afterwards the database must hold exactly one order per thread, with that
thread's customer and line, and stock must have gone down by exactly what was ordered.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import chromadb
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from agents.desk import OrderDesk
from api import create_app
from db.models import Customer, Order, Product
from db.seed import seed
from tests.agents.conftest import open_desk
from tests.api.conftest import KEY

THREADS = 50
# Product phrase → id; 10 threads each, 1 or 2 units, all well within stock.
PRODUCTS = [("tofu", 14), ("konbu", 13), ("ikura", 10), ("gnocchi", 56), ("pate chinois", 55)]


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port, in this process; yield its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    runner = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert runner.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        runner.join(timeout=30)
        sock.close()


def expected(index: int, customers: list[str]) -> tuple[str, str, int, int]:
    """(thread id, customer, product id, quantity) for conversation `index`."""
    phrase, product_id = PRODUCTS[index % len(PRODUCTS)]
    return f"conc-{index}", customers[index], product_id, 1 + index % 2


def converse(base_url: str, index: int, customers: list[str]) -> int:
    """One conversation to confirmation; asserts it only ever sees its own draft."""
    thread_id, customer, product_id, quantity = expected(index, customers)
    phrase = PRODUCTS[index % len(PRODUCTS)][0]
    own = (customer, {str(product_id): quantity})
    with httpx.Client(base_url=base_url, headers={"X-API-Key": KEY}, timeout=120) as client:
        message = f"Customer: {customer}\n- {phrase} - {quantity}"
        drafted = client.post("/api/chat", json={"thread_id": thread_id, "message": message})
        assert drafted.status_code == 200, drafted.text
        assert seen(drafted.json()) == own and drafted.json()["pending"]
        if index % 2:
            confirmed = client.post(f"/api/chat/{thread_id}/approve")
        else:
            confirmed = client.post("/api/chat", json={"thread_id": thread_id, "message": "yes"})
        assert confirmed.status_code == 200, confirmed.text
        assert seen(confirmed.json()) == own
        order_id = confirmed.json()["order_id"]
        assert isinstance(order_id, int), confirmed.json()["reply"]
        return order_id


def seen(turn: dict) -> tuple[str, dict[str, int]]:
    draft = turn["draft"]
    return draft["customer_id"], {str(x["product_id"]): x["quantity"] for x in draft["lines"]}


@pytest.fixture
def live_desk(engine: Engine) -> Iterator[OrderDesk]:
    seed(engine=engine)
    desk = open_desk(engine)
    yield desk
    desk.close()


def test_fifty_parallel_threads_each_confirm_their_own_order(
    live_desk: OrderDesk, engine: Engine, api_keys: list[str]
) -> None:
    with Session(engine) as session:
        customers = list(session.scalars(select(Customer.customer_id).order_by("customer_id")))
        stock_before = session.scalar(select(func.sum(Product.units_in_stock)))
        last_order = session.scalar(select(func.max(Order.order_id)))
    app = create_app(live_desk, chroma=chromadb.EphemeralClient())
    with serve(app) as base_url, ThreadPoolExecutor(THREADS) as pool:
        order_ids = list(pool.map(lambda i: converse(base_url, i, customers), range(THREADS)))

    assert len(set(order_ids)) == THREADS
    with Session(engine) as session:
        query = select(Order).where(Order.order_id > last_order).options(selectinload(Order.lines))
        placed = list(session.scalars(query))
        stock_after = session.scalar(select(func.sum(Product.units_in_stock)))
    orders = {order.thread_id: order for order in placed}
    assert len(placed) == len(orders) == THREADS  # one per thread: none lost, none twice
    for index in range(THREADS):
        thread_id, customer, product_id, quantity = expected(index, customers)
        order = orders[thread_id]
        assert order.order_id in order_ids and order.customer_id == customer
        assert [(line.product_id, line.quantity) for line in order.lines] == [
            (product_id, quantity)
        ]
    assert stock_before - stock_after == sum(1 + i % 2 for i in range(THREADS))

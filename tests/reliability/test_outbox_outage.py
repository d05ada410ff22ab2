"""A real Chroma server frozen, then killed, while orders are confirmed and cancelled: once
it is back, the relay leaves no order without its summary.

The measured failure this replaces: Chroma frozen 30 s, then killed and restarted, while
orders were confirmed - 180 and 323 confirmed orders never got a summary, and a cancelled
order's summary still said it was ordered. Here the server is frozen (SIGSTOP: the port
accepts, nothing answers), then killed (SIGKILL), then started again on the same port
and data; confirmations go on throughout (none waits for Chroma), and a background
relay with short timeouts and backoff delivers everything once the server is back.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config import load_settings
from db.models import MemoryOutbox, Order, OrderStatus
from db.seed import seed
from memory.habits import order_memory_id, order_summary
from memory.outbox import OutboxRelay, pending_count
from memory.store import FailFastCollection, MemoryStore, get_memories_collection
from orders.history import cancel_order, order_status
from rag.chroma import create_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction
from tests.chroma_server import ChromaServer, start_chroma_server
from tests.memory.test_outbox import confirm

TIMEOUT_S = 2.0  # CHROMA_TIMEOUT_S: how long a write waits on the frozen server (and
# longer than any confirmation takes on a loaded CI machine: 1.07 s was seen at 1.0)


def restart(server: ChromaServer, data_dir: Path) -> ChromaServer:
    """`chroma run` again on the same port and data, once it accepts connections."""
    command = [*server.process.args[:4], "--host", "127.0.0.1", "--port", str(server.port)]
    with server.log.open("a") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    again = ChromaServer(server.port, process, server.log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", server.port)) == 0:
                return again
        time.sleep(0.1)
    again.stop()
    raise RuntimeError(f"chroma did not restart: {server.log.read_text()[-2000:]}")


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[list[ChromaServer]]:
    """The running server (a list: restarting replaces it)."""
    servers = [start_chroma_server(tmp_path / "chroma")]
    yield servers
    servers[-1].stop()


def memory_on(server: ChromaServer, embedder: MiniLMEmbeddingFunction) -> MemoryStore:
    settings = load_settings(
        chroma_host="127.0.0.1", chroma_port=server.port, chroma_timeout_s=TIMEOUT_S
    )
    collection = get_memories_collection(create_chroma_client(settings), embedder=embedder)
    return MemoryStore(FailFastCollection(collection, retry_after_s=0.5), embedder=embedder)


def wait_until_delivered(engine: Engine, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while pending_count(engine) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_no_order_loses_its_summary_when_chroma_freezes_and_dies(
    engine: Engine, chroma: list[ChromaServer], tmp_path: Path, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine)
    store = memory_on(chroma[0], embedder)
    relay = OutboxRelay(engine, store, interval_s=0.2, backoff_base_s=0.2, backoff_cap_s=1.0)
    placed: list[int] = []

    def place(n: int) -> None:
        for _ in range(n):
            started = time.monotonic()
            placed.append(confirm(engine, thread_id=f"outage-{len(placed)}", p75=1))
            assert time.monotonic() - started < TIMEOUT_S  # a confirmation never waits on Chroma
            relay.kick()

    with relay:
        place(5)
        wait_until_delivered(engine, 10)
        assert pending_count(engine) == 0

        chroma[0].pause()  # frozen: every write waits TIMEOUT_S, then fails
        place(10)
        time.sleep(2 * TIMEOUT_S)
        chroma[0].process.send_signal(signal.SIGKILL)  # then killed outright
        chroma[0].process.wait(timeout=10)
        place(10)
        with Session(engine) as session:  # a cancellation during the outage, too
            cancel_order(session=session, order_id=placed[2])
            session.commit()
        assert pending_count(engine) == 21
        with Session(engine) as session:
            failed = session.scalars(select(MemoryOutbox).where(MemoryOutbox.attempts > 0)).all()
        assert failed and all(row.last_error for row in failed)

        chroma.append(restart(chroma[0], tmp_path / "chroma"))
        wait_until_delivered(engine, 30)

    assert pending_count(engine) == 0
    with Session(engine) as session:
        orders = session.scalars(select(Order).where(Order.order_id.in_(placed))).all()
        assert len(orders) == 25
        for order in orders:
            memory = store.get(order_memory_id(order.order_id))
            assert memory is not None, f"order {order.order_id} has no summary"
            view = order_status(session=session, order_id=order.order_id)
            assert memory.text == order_summary(view)
        cancelled = [o.order_id for o in orders if o.status == OrderStatus.CANCELLED]
    assert cancelled == [placed[2]]
    assert "(cancelled" in store.get(order_memory_id(placed[2])).text
    assert store.count() == 25

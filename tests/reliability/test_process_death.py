"""A desk process killed mid-conversation (SIGKILL: no cleanup, no flush, no atexit)
loses nothing and confirms nothing.

A child process opens the desk on the test database and drafts an order in one thread;
in a second thread it gets as far as the approval interrupt of confirm_order (the user
said "yes", the facade had not resumed yet). Then it kills itself. A new desk in this
process finds both threads as they were and confirms each exactly once.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.models import OrderLine
from db.seed import seed
from tests.agents.conftest import new_orders, open_desk, stock_of
from tests.reliability.child import spawn

DRAFTED = "Alfreds wants 12 Queso Cabrales"  # product 11
APPROVED = "Ernst Handel wants 20 tofu"  # product 14
CABRALES, TOFU = 11, 14


def order_lines(engine: Engine, order_id: int) -> dict[int, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(OrderLine.product_id, OrderLine.quantity).where(OrderLine.order_id == order_id)
        )
        return {product_id: quantity for product_id, quantity in rows}


def test_a_desk_killed_mid_conversation_loses_nothing_and_confirms_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    seed(engine=engine)
    before = {p: stock_of(engine, p) for p in (CABRALES, TOFU)}
    drafted, approved = (f"t-{uuid.uuid4().hex[:12]}" for _ in range(2))
    log = tmp_path / "child.log"
    with log.open("w") as stderr:
        child = spawn(
            "draft",
            drafted,
            DRAFTED,
            approved,
            APPROVED,
            database_url=engine.url.render_as_string(hide_password=False),
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        out, _ = child.communicate(timeout=300)
    assert (child.returncode, out) == (-signal.SIGKILL, "drafted\n"), log.read_text()

    # What the child never confirmed did not happen.
    assert new_orders(engine) == []
    assert {p: stock_of(engine, p) for p in before} == before

    desk = open_desk(engine)
    try:
        draft = desk.current_draft(drafted)
        assert draft is not None and draft.customer_id == "ALFKI" and draft.confirmable
        assert {line.product_id: line.quantity for line in draft.lines} == {CABRALES: 12}
        history = desk.history(drafted)
        assert [m.content for m in history if isinstance(m, HumanMessage)] == [DRAFTED]
        assert "confirm" in str(history[-1].content) and isinstance(history[-1], AIMessage)

        waiting = desk.current_draft(approved)
        assert waiting is not None and waiting.customer_id == "ERNSH"
        assert {line.product_id: line.quantity for line in waiting.lines} == {TOFU: 20}
        state = desk.agent.get_state({"configurable": {"thread_id": approved}})
        assert state.interrupts and "confirm_order" in str(state.interrupts[0].value)

        first, second = desk.approve(drafted), desk.approve(approved)
        assert first.order_id is not None and second.order_id is not None, (first, second)
        assert desk.approve(drafted).order_id is None
        assert desk.approve(approved).order_id is None
    finally:
        desk.close()
    orders = {order.customer_id: order.order_id for order in new_orders(engine)}
    assert orders == {"ALFKI": first.order_id, "ERNSH": second.order_id}
    assert order_lines(engine, first.order_id) == {CABRALES: 12}
    assert order_lines(engine, second.order_id) == {TOFU: 20}
    assert {p: stock_of(engine, p) for p in before} == {
        CABRALES: before[CABRALES] - 12,
        TOFU: before[TOFU] - 20,
    }

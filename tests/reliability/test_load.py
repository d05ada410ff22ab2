"""100 conversations at once through a real uvicorn server, against limited stock.

Three products are cut to 20 units and 100 conversations (a thread, a customer and an
httpx client each) ask for more of them than there is: each drafts its order, then
confirms it - half by saying "yes", half with /approve. Some orders go through, the rest
must be refused with a reply that says the stock is short, and the database must agree
with what the clients were told: each reported order exactly once with its lines, no
order nobody was told about, no refusal that left an order, no negative stock, and stock
before = stock after + units sold. No response may be a 5xx. The conversations and the
audit are `bench.load`'s, which runs the same scenario against `uvicorn api:app`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import chromadb
import pytest
from sqlalchemy import Engine

from agents.desk import OrderDesk
from api import create_app
from bench.load import STOCK_REFUSAL, audit, limit_stock, make_plans, run_conversations
from config import get_settings
from db.seed import seed
from tests.agents.conftest import open_desk
from tests.api.conftest import KEY
from tests.api.test_concurrency import serve

CONVERSATIONS = 100
SETTLED = ("confirmed", "stock")


@pytest.fixture
def load_desk(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderDesk]:
    """An offline desk on a freshly seeded store, served with API key KEY."""
    monkeypatch.setenv("API_KEYS", KEY)
    get_settings.cache_clear()
    seed(engine=engine)
    desk = open_desk(engine)
    yield desk
    desk.close()


def test_hundred_conversations_against_limited_stock(load_desk: OrderDesk, engine: Engine) -> None:
    baseline = limit_stock(engine)
    plans = make_plans(engine, CONVERSATIONS)
    app = create_app(load_desk, chroma=chromadb.EphemeralClient())
    with serve(app) as base_url:
        outcomes, _ = run_conversations(base_url, KEY, plans, timeout_s=300)

    failed = [check.line() for check in audit(engine, baseline, outcomes) if not check.ok]
    assert not failed, "\n".join(failed)
    kinds = Counter(outcome.kind for outcome in outcomes)
    assert kinds["confirmed"] > 0 and kinds["stock"] > 0, kinds  # the stock did run short
    # Every conversation ended in an order or in a refusal that said the stock was short.
    unclear = [(o.plan.thread_id, o.problem) for o in outcomes if o.kind not in SETTLED]
    assert unclear == []
    for outcome in outcomes:
        if outcome.kind == "stock":
            assert STOCK_REFUSAL.search(outcome.reply) and outcome.order_id is None

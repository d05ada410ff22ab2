"""Stock held while drafting: a second draft sees the first's hold, which goes on discard,
confirmation or expiry; nothing held is sold to another draft, under races too."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from config import get_settings
from db.engine import session_scope
from db.models import Draft, DraftLine, DraftStatus, OrderLine, Product, utcnow
from orders.book import OrderBook
from orders.confirm import confirm_draft
from orders.drafts import create_draft, discard_draft, get_draft, remove_line, set_line
from orders.errors import Unavailable
from orders.schemas import LineStatus
from orders.stock import availability
from rag.search import CatalogSearch
from tests.orders.conftest import store_state

TOFU = 14  # 35 in stock in the seeded Northwind store
CHAI = 1  # discontinued


def draft_for(session: Session, quantity: int, product_id: int = TOFU, customer: str = "ALFKI"):
    view = create_draft(
        session=session,
        customer_id=customer,
        lines=[{"product_id": product_id, "quantity": quantity}],
        thread_id=f"t-{uuid.uuid4().hex[:8]}",
    )
    session.commit()
    return view


def stock_of(session: Session, product_id: int = TOFU) -> int:
    session.expire_all()
    return session.get(Product, product_id).units_in_stock


def test_a_second_draft_sees_the_first_drafts_hold(session: Session) -> None:
    in_stock = stock_of(session)
    first = draft_for(session, in_stock - 5)
    assert first.lines[0].status is LineStatus.OK
    assert first.lines[0].held == in_stock - 5 and first.hold_until is not None

    second = draft_for(session, 10, customer="BONAP")
    line = second.lines[0]
    assert line.status is LineStatus.SHORT_STOCK
    assert line.available == 5 and line.in_stock == in_stock
    assert line.held_by_others == in_stock - 5
    assert line.held_until == first.hold_until
    assert line.held == 5  # it holds what was left, not the first draft's units
    assert not second.confirmable
    # The first draft is not disturbed by the second's asking.
    again = get_draft(session=session, draft_id=first.draft_id)
    assert again.lines[0].status is LineStatus.OK and again.lines[0].available == in_stock - 5


def test_held_stock_is_not_sold_to_another_draft(session: Session) -> None:
    in_stock = stock_of(session)
    draft_for(session, in_stock - 5)
    second = draft_for(session, 10, customer="BONAP")
    before = store_state(session)
    with pytest.raises(Unavailable, match="5 available .*held by other open drafts"):
        confirm_draft(session=session, draft_id=second.draft_id, idempotency_key="k-second")
    assert store_state(session) == before


def test_discarding_the_first_draft_frees_its_hold_and_the_second_confirms(
    session: Session,
) -> None:
    in_stock = stock_of(session)
    first = draft_for(session, in_stock)
    second = draft_for(session, 10, customer="BONAP")
    assert second.lines[0].status is LineStatus.SHORT_STOCK and second.lines[0].available == 0

    discard_draft(session=session, draft_id=first.draft_id)
    session.commit()
    freed = get_draft(session=session, draft_id=second.draft_id)
    assert freed.lines[0].status is LineStatus.OK and freed.confirmable
    assert freed.lines[0].available == in_stock and freed.lines[0].held_by_others == 0
    order = confirm_draft(session=session, draft_id=second.draft_id, idempotency_key="k2")
    assert order.lines[0].quantity == 10
    assert stock_of(session) == in_stock - 10


def test_confirming_releases_the_hold_and_takes_the_stock(session: Session) -> None:
    in_stock = stock_of(session)
    first = draft_for(session, 20)
    second = draft_for(session, 10, customer="BONAP")
    confirm_draft(session=session, draft_id=first.draft_id, idempotency_key="k1")
    seen = get_draft(session=session, draft_id=second.draft_id).lines[0]
    assert (seen.in_stock, seen.held_by_others, seen.available) == (in_stock - 20, 0, in_stock - 20)


def test_an_expired_hold_counts_for_nothing(session: Session) -> None:
    in_stock = stock_of(session)
    first = draft_for(session, in_stock)
    session.execute(
        update(Draft)
        .where(Draft.draft_id == first.draft_id)
        .values(hold_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    second = draft_for(session, 10, customer="BONAP")
    assert second.lines[0].status is LineStatus.OK and second.lines[0].held == 10
    assert get_draft(session=session, draft_id=first.draft_id).hold_until is None
    # The first draft's own view is then short: its stock went to the second.
    assert get_draft(session=session, draft_id=first.draft_id).lines[0].available == in_stock - 10


def test_a_change_refreshes_the_hold_and_a_smaller_quantity_frees_units(
    session: Session,
) -> None:
    first = draft_for(session, 30)
    session.execute(
        update(Draft)
        .where(Draft.draft_id == first.draft_id)
        .values(hold_until=utcnow() + timedelta(minutes=1))
    )
    session.commit()
    changed = set_line(session=session, draft_id=first.draft_id, product_id=TOFU, quantity=20)
    session.commit()
    assert changed.hold_until > utcnow() + timedelta(minutes=29)
    assert changed.lines[0].held == 20
    assert availability(session, [TOFU])[TOFU].held_by_others == 20
    remove_line(session=session, draft_id=first.draft_id, product_id=TOFU)
    session.commit()
    assert availability(session, [TOFU])[TOFU].held_by_others == 0


def test_a_discontinued_line_holds_nothing(session: Session) -> None:
    draft = draft_for(session, 5, product_id=CHAI)
    assert draft.lines[0].status is LineStatus.DISCONTINUED and draft.lines[0].held == 0


def test_hold_minutes_zero_turns_holds_off(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLD_MINUTES", "0")
    get_settings.cache_clear()
    in_stock = stock_of(session)
    first = draft_for(session, in_stock)
    assert first.hold_until is None and first.lines[0].held == 0
    assert draft_for(session, 10, customer="BONAP").lines[0].status is LineStatus.OK


def _live_held(session: Session, product_id: int) -> int:
    return availability(session, [product_id])[product_id].held_by_others


def test_50_threads_drafting_and_confirming_never_promise_a_unit_twice(seeded: Engine) -> None:
    """50 threads each draft 1-4 Tofu at once, then confirm or discard. A draft whose line
    was fully held when drafted always confirms; the holds never add up to more than the
    stock, no unit is sold twice or lost, and whatever stock is asked for is held."""
    with Session(seeded) as session:
        initial = stock_of(session)
    rng = random.Random(17)
    plans = [(rng.randint(1, 4), rng.random() < 0.6) for _ in range(50)]
    start = threading.Barrier(50)
    seen_held: list[int] = []

    def one(plan: tuple[int, bool]) -> tuple[int, int, str]:
        quantity, confirm = plan
        start.wait()
        with session_scope(seeded) as session:
            draft = create_draft(
                session=session,
                customer_id="ALFKI",
                lines=[{"product_id": TOFU, "quantity": quantity}],
                thread_id=f"race-{uuid.uuid4().hex}",
            )
        held = draft.lines[0].held
        with session_scope(seeded) as session:
            seen_held.append(_live_held(session, TOFU))
            if not confirm:
                discard_draft(session=session, draft_id=draft.draft_id)
                return quantity, held, "discarded"
        try:
            with session_scope(seeded) as session:
                confirm_draft(
                    session=session, draft_id=draft.draft_id, idempotency_key=uuid.uuid4().hex
                )
            return quantity, held, "confirmed"
        except Unavailable:
            return quantity, held, "refused"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(one, plans))

    asked = sum(quantity for quantity, _, _ in outcomes)
    assert asked > initial  # the race was for more than there is
    # A draft fully held was promised its units: it always confirms.
    for quantity, held, outcome in outcomes:
        assert held <= quantity
        if held == quantity and outcome != "discarded":
            assert outcome == "confirmed", (quantity, held, outcome)
    assert any(outcome == "refused" for _, _, outcome in outcomes)
    assert max(seen_held) <= initial
    with Session(seeded) as session:
        sold = session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
                OrderLine.order_id > 11077, OrderLine.product_id == TOFU
            )
        )
        confirmed = sum(q for q, _, outcome in outcomes if outcome == "confirmed")
        assert sold == confirmed  # every reported order is there, once
        assert stock_of(session) == initial - sold >= 0
        assert session.scalar(select(func.count()).where(Draft.status == DraftStatus.OPEN)) == sum(
            1 for *_, outcome in outcomes if outcome == "refused"
        )
        assert _live_held(session, TOFU) <= stock_of(session)


def test_50_threads_asking_at_once_hold_all_the_stock_and_no_more(seeded: Engine) -> None:
    """50 drafts taken at once for more Tofu than there is: the holds add up to exactly the
    stock (none lost to the race, none promised twice), each at most its quantity."""
    with Session(seeded) as session:
        initial = stock_of(session)
    start = threading.Barrier(50)

    def one(n: int) -> tuple[int, int]:
        start.wait()
        with session_scope(seeded) as session:
            view = create_draft(
                session=session,
                customer_id="ALFKI",
                lines=[{"product_id": TOFU, "quantity": 1 + n % 3}],
                thread_id=f"hold-{n}",
            )
        return view.lines[0].quantity, view.lines[0].held

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(0 <= held <= quantity for quantity, held in results)
    assert sum(quantity for quantity, _ in results) > initial
    assert sum(held for _, held in results) == initial
    with Session(seeded) as session:
        stored = session.scalar(
            select(func.sum(DraftLine.held)).where(DraftLine.product_id == TOFU)
        )
        assert stored == initial == _live_held(session, TOFU)


def test_the_catalog_lists_what_drafts_hold_and_what_is_left(session: Session) -> None:
    book = OrderBook(session.get_bind())
    in_stock = stock_of(session)
    draft_for(session, in_stock - 5)
    tofu = next(p for p in book.products() if p.product_id == TOFU)
    assert (tofu.units_in_stock, tofu.held, tofu.available) == (in_stock, in_stock - 5, 5)
    draft_for(session, 5, customer="BONAP")
    assert TOFU not in {p.product_id for p in book.products(in_stock_only=True)}
    assert TOFU in {p.product_id for p in book.products()}


def test_search_candidates_count_what_drafts_hold(session: Session, embedder) -> None:  # type: ignore[no-untyped-def]
    search = CatalogSearch(engine=session.get_bind(), embedder=embedder)  # spelling only
    in_stock = stock_of(session)
    draft_for(session, in_stock - 5)
    tofu = next(c for c in search.search("tofu", k=5).candidates if c.product_id == TOFU)
    assert (tofu.units_in_stock, tofu.held, tofu.available) == (in_stock, in_stock - 5, 5)


def test_two_edits_taking_holds_in_crossed_product_order_both_commit(seeded: Engine) -> None:
    """One edit adds product 50 then 10, another 10 then 50, interleaved: row locks alone
    deadlock here on PostgreSQL (one is aborted); the holds' lock orders them instead."""
    with Session(seeded) as session:
        first, second = (draft_for(session, 1).draft_id for _ in range(2))
    first_has_50 = threading.Event()
    errors: list[BaseException] = []

    def edit(draft_id: int, products: tuple[int, int], wait: threading.Event | None) -> None:
        try:
            with session_scope(seeded) as session:
                if wait is not None:
                    assert wait.wait(10)
                set_line(session=session, draft_id=draft_id, product_id=products[0], quantity=1)
                if wait is None:
                    first_has_50.set()
                    time.sleep(0.5)  # the other edit takes its first product meanwhile
                set_line(session=session, draft_id=draft_id, product_id=products[1], quantity=1)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=edit, args=(first, (50, 10), None)),
        threading.Thread(target=edit, args=(second, (10, 50), first_has_50)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with Session(seeded) as session:
        for draft_id in (first, second):
            assert {
                line.product_id for line in get_draft(session=session, draft_id=draft_id).lines
            } >= {10, 50}

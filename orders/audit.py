"""The audit trail: every change of a draft and every event of an order, with who and when.

Nothing in the domain code calls it. Listeners on SQLAlchemy's `Session` see each write
to `drafts`, `draft_lines` and `orders` and add `order_events` rows on the same
connection, in the same transaction, so an event commits exactly when its change does: a
refused change rolls both back, and a rolled-back savepoint takes its events with it.

- Changes the ORM flushes (orders.drafts: a new draft, a line added, changed or removed,
  the customer, the header, discarding): mapper events note each row written, with its
  attribute history (before and after); `after_flush` writes the flush's events at once.
  A new draft's first lines are part of its `drafted` event.
- Statements run through `Session.execute`, Core or ORM-enabled (orders.confirm inserts
  the order and claims the draft with Core statements; orders.history.cancel_order
  updates the order's status): `do_orm_execute` records an insert from its values after
  it ran; for an update (or a delete of draft lines) it reads the rows the statement may
  change (locking them on PostgreSQL), runs it, reads them again and records what
  changed. An update of no audited column (stock, `updated_at`, a draft's claim by
  confirmation: the order's insert is the `confirmed` event) costs nothing.

Not seen: SQL sent on a bare `Connection` or as `text()`; nothing writes these tables that
way. Orders without a draft (Northwind's history, imported by the seed) have no trail.

Who: `acting_as(actor)` names the caller for the current context (a ContextVar, so it
follows a turn into the threads LangChain and LangGraph copy contexts into); without one,
a confirmation is credited to the order's `created_by`. Importing `orders` (any module
of the domain) registers the listeners: see orders/__init__.py.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, CursorResult, Result, event, insert, inspect, or_, select, tuple_
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, object_session

from db.models import Customer, Draft, DraftLine, Order, OrderEvent, Product, utcnow
from orders.errors import DraftNotFound, OrderNotFound
from orders.header import FIELDS as HEADER_FIELDS

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    DRAFTED = "drafted"
    LINE_ADDED = "line_added"
    LINE_CHANGED = "line_changed"
    LINE_REMOVED = "line_removed"
    CUSTOMER_CHANGED = "customer_changed"
    HEADER_CHANGED = "header_changed"
    DISCARDED = "discarded"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class EventView(BaseModel):
    """One entry of a trail. `detail` says what changed: `before`/`after` for a change
    (a line's quantity, the customer, a header `field`), `product_id`, `product` (its
    name then) and `quantity` for a line, `lines` for a new draft, `total` for an order."""

    model_config = ConfigDict(frozen=True)

    event_id: int
    kind: str
    detail: dict[str, Any]
    actor: str | None
    created_at: datetime
    draft_id: int | None
    order_id: int | None


# --- who --------------------------------------------------------------------------------

_actor: ContextVar[str | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Record the changes made inside the block as `actor`'s (a user's e-mail, a browser
    session's or an API key's owner id, "cli"); None leaves them unattributed."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> str | None:
    """Who the changes made now are recorded for (None: nobody named)."""
    return _actor.get()


# --- reading a trail --------------------------------------------------------------------

events = OrderEvent.__table__


def order_events(session: Session, order_id: int) -> list[EventView]:
    """The order's trail, oldest first: its draft's events, then its own. OrderNotFound."""
    found = session.execute(select(Order.draft_id).where(Order.order_id == order_id)).one_or_none()
    if found is None:
        raise OrderNotFound(order_id)
    condition = events.c.order_id == order_id
    if found.draft_id is not None:
        condition = or_(condition, events.c.draft_id == found.draft_id)
    return _read(session, condition)


def draft_events(session: Session, draft_id: int) -> list[EventView]:
    """The draft's trail, oldest first (with its confirmation, once confirmed). DraftNotFound."""
    if session.get(Draft, draft_id) is None:
        raise DraftNotFound(draft_id)
    return _read(session, events.c.draft_id == draft_id)


def _read(session: Session, condition: Any) -> list[EventView]:
    rows = session.execute(select(events).where(condition).order_by(events.c.event_id))
    return [
        EventView(
            event_id=row.event_id,
            kind=row.kind,
            detail=row.detail or {},
            actor=row.actor,
            # SQLite hands timestamps back without their zone; they were written in UTC.
            created_at=row.created_at
            if row.created_at.tzinfo
            else row.created_at.replace(tzinfo=UTC),
            draft_id=row.draft_id,
            order_id=row.order_id,
        )
        for row in rows
    ]


# --- what is recorded -------------------------------------------------------------------


@dataclass
class _Event:
    kind: EventKind
    draft_id: int | None
    order_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    fallback_actor: str | None = None  # who, when nobody is acting_as (an order's created_by)


@dataclass
class _Flush:
    """What one flush changed, noted row by row, written when the flush is done."""

    events: list[_Event] = field(default_factory=list)
    drafted: dict[int, _Event] = field(default_factory=dict)  # new drafts: their lines join
    deleted_drafts: set[int] = field(default_factory=set)  # their trail goes with them


_FLUSH = "orders.audit.flush"  # the key of the flush's _Flush in session.info
_STATUS_EVENTS = {
    ("drafts", "discarded"): EventKind.DISCARDED,
    ("orders", "cancelled"): EventKind.CANCELLED,
}
# Per table: the columns whose changes are events.
_AUDITED: dict[str, tuple[str, ...]] = {
    "drafts": ("customer_id", *HEADER_FIELDS, "status"),
    "orders": (*HEADER_FIELDS, "status"),
    "draft_lines": ("quantity",),
}
# Events that name a customer: the detail's key holding its code -> the one for its name.
_CUSTOMER_KEYS = {
    EventKind.DRAFTED: {"customer_id": "customer"},
    EventKind.CUSTOMER_CHANGED: {"before": "before_name", "after": "after_name"},
}
_TABLES = {table.name: table for table in (Draft.__table__, Order.__table__, DraftLine.__table__)}


def _plain(value: Any) -> Any:
    """A value as JSON holds it: enums by value, dates in ISO form, money as a string."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _changes(
    table: str,
    *,
    draft_id: int | None,
    order_id: int | None = None,
    product_id: int | None = None,
    changed: Mapping[str, tuple[Any, Any]],
) -> list[_Event]:
    """The events of one row's changed columns ({column: (before, after)})."""
    found: list[_Event] = []
    for column, (before, after) in changed.items():
        before, after = _plain(before), _plain(after)
        if before == after or column not in _AUDITED[table]:
            continue
        if column in HEADER_FIELDS:
            detail = {"field": column, "before": before, "after": after}
            found.append(_Event(EventKind.HEADER_CHANGED, draft_id, order_id, detail))
        elif column == "customer_id":
            detail = {"before": before, "after": after}
            found.append(_Event(EventKind.CUSTOMER_CHANGED, draft_id, order_id, detail))
        elif column == "quantity":
            detail = {"product_id": product_id, "before": before, "after": after}
            found.append(_Event(EventKind.LINE_CHANGED, draft_id, order_id, detail))
        elif (kind := _STATUS_EVENTS.get((table, after))) is not None:
            found.append(_Event(kind, draft_id, order_id, {"before": before}))
    return found


def recorded_actor(actor: str | None) -> str | None:
    """How the trail keeps `actor`: as given, but a browser session (`ui:<key>`) by a
    digest of its key, since the key (in the page's URL) opens that browser's
    conversations and the trail is read by everyone who reads orders."""
    if actor is not None and actor.startswith("ui:"):
        return "ui:" + hashlib.sha256(actor[3:].encode()).hexdigest()[:12]
    return actor


def _write(connection: Connection, found: list[_Event]) -> None:
    """Insert the events, the names of their products and customers as they are now."""
    if not found:
        return
    _name(connection, found)
    actor, now = _actor.get(), utcnow()
    connection.execute(
        insert(events),
        [
            {
                "draft_id": e.draft_id,
                "order_id": e.order_id,
                "kind": e.kind.value,
                "detail": e.detail,
                "actor": recorded_actor(actor if actor is not None else e.fallback_actor),
                "created_at": now,
            }
            for e in found
        ],
    )


def _name(connection: Connection, found: list[_Event]) -> None:
    lines = [line for e in found for line in [e.detail, *e.detail.get("lines", ())]]
    product_ids = {line["product_id"] for line in lines if line.get("product_id") is not None}
    named = [
        (e.detail, key, label)
        for e in found
        for key, label in _CUSTOMER_KEYS.get(e.kind, {}).items()
        if isinstance(e.detail.get(key), str)
    ]
    products = _lookup(connection, Product.product_id, Product.name, product_ids)
    customers = _lookup(
        connection,
        Customer.customer_id,
        Customer.company_name,
        {detail[key] for detail, key, _label in named},
    )
    for line in lines:
        if line.get("product_id") is not None:
            line["product"] = products.get(line["product_id"])
    for detail, key, label in named:
        detail[label] = customers.get(detail[key])


def _lookup(connection: Connection, key: Any, value: Any, wanted: set[Any]) -> dict[Any, Any]:
    if not wanted:
        return {}
    return dict(connection.execute(select(key, value).where(key.in_(wanted))).all())


# --- the ORM's flushes ------------------------------------------------------------------


def _flush_of(target: object) -> _Flush:
    session = object_session(target)
    assert session is not None, "a flushed row belongs to a session"
    return session.info.setdefault(_FLUSH, _Flush())


def _loaded(target: object) -> dict[str, Any]:
    # The row's values as the flush has them, without loading anything (no SQL mid-flush).
    return inspect(target).dict


def _history(target: object, names: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    """{attribute: (before, after)} for the attributes this flush changed."""
    attrs = inspect(target).attrs
    changed: dict[str, tuple[Any, Any]] = {}
    for name in names:
        history = attrs[name].history
        if history.added:
            changed[name] = (history.deleted[0] if history.deleted else None, history.added[0])
    return changed


def _draft_inserted(_mapper: Mapper[Any], _connection: Connection, draft: Draft) -> None:
    values = _loaded(draft)
    header = {name: _plain(values[name]) for name in HEADER_FIELDS if values.get(name) is not None}
    detail: dict[str, Any] = {"customer_id": values.get("customer_id"), "lines": []}
    if header:
        detail["header"] = header
    drafted = _Event(EventKind.DRAFTED, values["draft_id"], detail=detail)
    flush = _flush_of(draft)
    flush.events.append(drafted)
    flush.drafted[drafted.draft_id] = drafted  # type: ignore[index]


def _draft_updated(_mapper: Mapper[Any], _connection: Connection, draft: Draft) -> None:
    changed = _history(draft, _AUDITED["drafts"])
    if changed:
        found = _changes("drafts", draft_id=_loaded(draft)["draft_id"], changed=changed)
        _flush_of(draft).events.extend(found)


def _draft_deleted(_mapper: Mapper[Any], _connection: Connection, draft: Draft) -> None:
    _flush_of(draft).deleted_drafts.add(_loaded(draft)["draft_id"])


def _line_inserted(_mapper: Mapper[Any], _connection: Connection, line: DraftLine) -> None:
    values = _loaded(line)
    entry = {"product_id": values["product_id"], "quantity": values["quantity"]}
    flush = _flush_of(line)
    drafted = flush.drafted.get(values["draft_id"])
    if drafted is not None:
        drafted.detail["lines"].append(entry)
    else:
        flush.events.append(_Event(EventKind.LINE_ADDED, values["draft_id"], detail=entry))


def _line_updated(_mapper: Mapper[Any], _connection: Connection, line: DraftLine) -> None:
    changed = _history(line, _AUDITED["draft_lines"])
    if changed:
        values = _loaded(line)
        _flush_of(line).events.extend(
            _changes(
                "draft_lines",
                draft_id=values["draft_id"],
                product_id=values["product_id"],
                changed=changed,
            )
        )


def _line_deleted(_mapper: Mapper[Any], _connection: Connection, line: DraftLine) -> None:
    # Taken off its draft's list (delete-orphan) or deleted outright: both come here.
    values = _loaded(line)
    entry = {"product_id": values.get("product_id"), "quantity": values.get("quantity")}
    _flush_of(line).events.append(_Event(EventKind.LINE_REMOVED, values["draft_id"], detail=entry))


def _order_inserted(_mapper: Mapper[Any], _connection: Connection, order: Order) -> None:
    values = _loaded(order)
    if values.get("draft_id") is None:
        return  # an imported historical order: nothing of it happened here
    _flush_of(order).events.append(_confirmed(values))


def _order_updated(_mapper: Mapper[Any], _connection: Connection, order: Order) -> None:
    changed = _history(order, _AUDITED["orders"])
    if changed:
        values = _loaded(order)
        _flush_of(order).events.extend(
            _changes(
                "orders",
                draft_id=values.get("draft_id"),
                order_id=values["order_id"],
                changed=changed,
            )
        )


def _confirmed(values: Mapping[str, Any]) -> _Event:
    detail = {
        "customer_id": values.get("customer_id"),
        "total": _plain(values.get("total")),
    }
    return _Event(
        EventKind.CONFIRMED,
        values["draft_id"],
        values["order_id"],
        detail,
        fallback_actor=values.get("created_by"),
    )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    session.info.pop(_FLUSH, None)  # whatever a failed flush noted never happened


def _after_flush(session: Session, _context: Any) -> None:
    flush: _Flush | None = session.info.pop(_FLUSH, None)
    if flush is None:
        return
    kept = [e for e in flush.events if e.draft_id not in flush.deleted_drafts]
    _write(session.connection(), kept)


# --- statements run through Session.execute ---------------------------------------------


def _column_name(key: Any) -> str:
    return key if isinstance(key, str) else getattr(key, "key", None) or str(key)


def _statement_rows(state: ORMExecuteState) -> list[dict[str, Any]]:
    """The values a DML statement writes, one dict per row (its `.values()` and any
    executemany parameters)."""
    statement = state.statement
    given = {
        _column_name(key): getattr(value, "value", value)
        for key, value in (getattr(statement, "_values", None) or {}).items()
    }
    params = state.parameters
    if isinstance(params, list | tuple):
        return [{**given, **{_column_name(k): v for k, v in row.items()}} for row in params]
    many = [
        {_column_name(k): getattr(v, "value", v) for k, v in row.items()}
        for group in getattr(statement, "_multi_values", ()) or ()
        for row in group
        if isinstance(row, Mapping)
    ]
    if many:
        return many
    return [{**given, **(params or {})}]


def _run(state: ORMExecuteState) -> tuple[Result[Any], list[Any] | None, int]:
    """Run the statement: (its result for the caller, the rows it returned if any, how many
    rows it changed, or -1 when the driver cannot say)."""
    result = state.invoke_statement()
    if _returns_rows(result):
        frozen = result.freeze()
        rows = list(frozen.data)
        return frozen(), rows, len(rows)
    return result, None, getattr(result, "rowcount", -1)


def _returns_rows(result: Result[Any]) -> bool:
    if isinstance(result, CursorResult):
        return result.returns_rows
    try:  # an ORM statement's result (a bulk insert's) says so only this way
        result.keys()
    except ResourceClosedError:
        return False
    return True


def _on_execute(state: ORMExecuteState) -> Result[Any] | None:
    statement = state.statement
    if not getattr(statement, "is_dml", False):
        return None
    name = getattr(getattr(statement, "table", None), "name", None)
    if name not in _TABLES:
        return None
    if statement.is_insert:
        return _inserted(state, name)
    if statement.is_update or (statement.is_delete and name == "draft_lines"):
        return _changed(state, name)
    return None  # a deleted draft or order takes its trail with it


def _inserted(state: ORMExecuteState, name: str) -> Result[Any] | None:
    rows = _statement_rows(state)
    connection = state.session.connection()
    if name == "orders":
        draft_ids = [row["draft_id"] for row in rows if row.get("draft_id") is not None]
        if not draft_ids:
            return None  # historical orders (the seed): nothing of them happened here
        result, returned, _count = _run(state)
        _write(connection, [_confirmed(values) for values in _new_orders(state, result, returned)])
        return result
    result, returned, _count = _run(state)
    if name == "draft_lines":
        _write(
            connection,
            [
                _Event(
                    EventKind.LINE_ADDED,
                    row.get("draft_id"),
                    detail={"product_id": row.get("product_id"), "quantity": row.get("quantity")},
                )
                for row in rows
            ],
        )
        return result
    _write(connection, [_drafted(row._mapping) for row in _new_drafts(state, result, returned)])
    return result


def _new_orders(
    state: ORMExecuteState, result: Result[Any], returned: list[Any] | None
) -> list[Mapping[str, Any]]:
    """The values of the orders an insert made (those from a draft). Confirmation's own
    insert (one row, returning its id) gives them itself, so the hot path pays one more
    statement only, the events' insert; any other insert's orders are read back."""
    rows = [row for row in _statement_rows(state) if row.get("draft_id") is not None]
    keys = list(result.keys()) if returned is not None else []
    if len(rows) == 1 and returned is not None and len(returned) == 1 and "order_id" in keys:
        return [{**rows[0], "order_id": returned[0][keys.index("order_id")]}]
    orders = _TABLES["orders"]
    query = select(orders).where(orders.c.draft_id.in_([row["draft_id"] for row in rows]))
    return [row._mapping for row in state.session.connection().execute(query)]


def _new_drafts(state: ORMExecuteState, result: Result[Any], returned: list[Any] | None) -> Any:
    """The rows of the drafts an insert made: by the ids it returned, or its primary keys."""
    drafts = _TABLES["drafts"]
    ids: list[Any] = []
    if returned is not None and "draft_id" in result.keys():
        at = list(result.keys()).index("draft_id")
        ids = [row[at] for row in returned]
    else:
        try:
            ids = [key[0] for key in result.inserted_primary_key_rows]  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the driver could not say which rows it made
            ids = []
    if not ids:
        log.warning("audit: drafts inserted without their ids known are not in the trail")
        return []
    return state.session.connection().execute(select(drafts).where(drafts.c.draft_id.in_(ids)))


def _drafted(values: Mapping[str, Any]) -> _Event:
    header = {n: _plain(values[n]) for n in HEADER_FIELDS if values.get(n) is not None}
    detail: dict[str, Any] = {"customer_id": values.get("customer_id"), "lines": []}
    if header:
        detail["header"] = header
    return _Event(EventKind.DRAFTED, values["draft_id"], detail=detail)


def _changed(state: ORMExecuteState, name: str) -> Result[Any] | None:
    """An UPDATE (or a DELETE of draft lines): the rows before and after, compared."""
    statement = state.statement
    if statement.is_update:
        written = set().union(*(row.keys() for row in _statement_rows(state)))
        audited = written & set(_AUDITED[name])
        if not audited or (name == "drafts" and _only_claimed(state, audited)):
            return None
    table = _TABLES[name]
    key = list(table.primary_key.columns)
    columns = [*key, *(table.c[c] for c in _AUDITED[name])]
    if name == "orders":
        columns.append(table.c.draft_id)
    connection = state.session.connection()
    # Locked on PostgreSQL, so what is read is what the statement then changes.
    found = connection.execute(
        _touched(state, select(*columns), key).with_for_update(), _bound(state)
    )
    before = {tuple(row[: len(key)]): row._mapping for row in found}
    if not before:
        return None
    result, _returned, count = _run(state)
    if count == 0:
        return result
    again = select(*columns).where(_among(key, list(before)))
    after = {tuple(row[: len(key)]): row._mapping for row in connection.execute(again)}
    _write(connection, _compared(name, before, after))
    return result


def _touched(state: ORMExecuteState, query: Any, key: list[Any]) -> Any:
    """`query` narrowed to the rows the statement may change: its WHERE clause, or the
    primary keys of an executemany by primary key (the ORM's bulk UPDATE)."""
    params = state.parameters
    if isinstance(params, list | tuple):
        names = [column.key for column in key]
        if not all(all(n in row for n in names) for row in params):
            raise RuntimeError(
                f"orders.audit cannot tell which {key[0].table.name} rows an executemany "
                "statement changes: run one statement per row, or by primary key"
            )
        return query.where(_among(key, [tuple(row[n] for n in names) for row in params]))
    where = state.statement.whereclause
    return query if where is None else query.where(where)


def _bound(state: ORMExecuteState) -> dict[str, Any] | None:
    # A WHERE clause with bindparam()s takes its values from the statement's parameters.
    params = state.parameters
    return dict(params) if isinstance(params, Mapping) and params else None


def _among(key: list[Any], pks: list[tuple[Any, ...]]) -> Any:
    if len(key) == 1:
        return key[0].in_([pk[0] for pk in pks])
    return tuple_(*key).in_(pks)


def _only_claimed(state: ORMExecuteState, audited: set[str]) -> bool:
    # Confirmation claims its draft (status -> confirmed); the order's insert records it.
    rows = _statement_rows(state)
    return audited == {"status"} and all(_plain(row["status"]) == "confirmed" for row in rows)


def _compared(name: str, before: Mapping[tuple, Any], after: Mapping[tuple, Any]) -> list[_Event]:
    found: list[_Event] = []
    for pk, old in before.items():
        new = after.get(pk)
        if new is None:  # a deleted draft line
            entry = {"product_id": old["product_id"], "quantity": old["quantity"]}
            found.append(_Event(EventKind.LINE_REMOVED, old["draft_id"], detail=entry))
            continue
        changed = {column: (old[column], new[column]) for column in _AUDITED[name]}
        found += _changes(
            name,
            draft_id=new["draft_id"],
            order_id=new.get("order_id"),
            product_id=new.get("product_id"),
            changed=changed,
        )
    return found


# --- always on ------------------------------------------------------------------------


def _register() -> None:
    listeners = [
        (Session, "before_flush", _before_flush),
        (Session, "after_flush", _after_flush),
        (Session, "do_orm_execute", _on_execute),
        (Draft, "after_insert", _draft_inserted),
        (Draft, "after_update", _draft_updated),
        (Draft, "after_delete", _draft_deleted),
        (DraftLine, "after_insert", _line_inserted),
        (DraftLine, "after_update", _line_updated),
        (DraftLine, "after_delete", _line_deleted),
        (Order, "after_insert", _order_inserted),
        (Order, "after_update", _order_updated),
    ]
    for target, name, listener in listeners:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def is_registered() -> bool:
    """True when the listeners record the trail (as they do once `orders` is imported)."""
    return event.contains(Session, "after_flush", _after_flush) and event.contains(
        Session, "do_orm_execute", _on_execute
    )


_register()

"""HTTP API on port 8001: health, catalog search, chat turns and orders for other systems.

A FastAPI app over the same `OrderDesk` facade and `orders/` functions as the UI; routes
only validate, call and render. `create_app(desk)` builds it (tests inject a desk on
their own store); `app = create_app()` is what `uvicorn api:app --port 8001` serves, and
its lifespan opens one `OrderDesk` (engine, catalog search, embedder, checkpointer) per
process, shared by every request. Every route but `/api/health` needs an `X-API-Key`
header matching one of `API_KEYS`; with no keys configured the API refuses to start
unless `API_AUTH_DISABLED=true` (a demo mode, allowed on a loopback `API_HOST` only).
Bodies are capped at 64 KB; bad input is a 422 naming each field, domain refusals are
4xx with the order domain's message, and no response ever carries a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from chromadb.api import ClientAPI
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agents.desk import MAX_MESSAGE_CHARS, OrderDesk, Turn
from agents.ownership import claim_thread, key_owner
from config import ConfigError, Settings, configure_logging, get_settings
from db.engine import dispose_engine
from db.models import OrderStatus
from orders import errors
from orders.history import cancel_order, list_orders, order_status
from orders.schemas import DraftView, OpenItemKind, OrderView
from rag.chroma import health_check
from rag.embeddings import MODEL_ID, get_embedder
from rag.search import SearchResult

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
API_USER = "api"  # recorded as the orders' created_by
DEMO_OWNER = "demo"  # owns every thread when auth is disabled (demo mode)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_ORDER_ID = 2**31 - 1  # orders.order_id is a 32-bit integer on PostgreSQL

ThreadId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The caller's conversation id: letters, digits, . _ : - (at most 64)",
        examples=["erp-4711"],
    ),
]
CustomerId = Annotated[
    str,
    Field(pattern=r"^[A-Z0-9]{1,5}$", description="Customer code, e.g. ALFKI", examples=["ALFKI"]),
]
OrderId = Annotated[int, Path(ge=1, le=MAX_ORDER_ID, description="Order number")]
Money = Annotated[Decimal, Field(description="Amount in dollars, as a decimal string")]


def _as_utc(value: datetime) -> datetime:
    """Naive means UTC; an offset is converted (clamped at the ends of the calendar)."""
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past datetime.max in UTC
        return (datetime.max if value.year > 1 else datetime.min).replace(tzinfo=UTC)


def _not_a_number(value: object) -> object:
    """Refuse Unix timestamps, which pydantic would take: the schema says ISO 8601."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("expected an ISO 8601 date-time such as 2024-05-01T00:00:00Z")
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_as_utc)]


# --- response and request models -----------------------------------------------------


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorOut(BaseModel):
    """Every 4xx/5xx body: one message for people, plus the fields at fault on a 422."""

    detail: str
    errors: list[FieldErrorOut] | None = None


class CandidateOut(BaseModel):
    product_id: int
    name: str
    category: str
    quantity_per_unit: str | None
    unit_price: Money
    units_in_stock: int
    discontinued: bool
    score: float = Field(description="Fused score 0..1, higher is better")
    lexical: float = Field(description="Spelling part of the score, 0..1")
    semantic: float | None = Field(description="Cosine similarity of meaning; null if unmeasured")
    exact: bool = Field(description="The query is this product's whole name")


class SearchOut(BaseModel):
    query: str
    ambiguous: bool = Field(description="Several candidates fit equally: ask which one")
    no_match: bool = Field(description="Nothing fits well enough to use")
    degraded: bool = Field(description="Vector search was unavailable; spelling only")
    elapsed_ms: float
    candidates: list[CandidateOut]


class DraftLineOut(BaseModel):
    product_id: int
    product_name: str
    quantity_per_unit: str | None
    quantity: int
    unit_price: Money
    status: Literal["ok", "short_stock", "discontinued"]
    available: int = Field(description="Units in stock now")
    line_total: Money


class OpenItemOut(BaseModel):
    kind: OpenItemKind
    phrase: str = Field(description="What the user wrote")
    quantity: int | None = Field(description="The quantity asked, if one was read")
    question: str = Field(description="What must be answered before confirming")
    candidates: list[int] = Field(description="Product ids that might be meant")


class DraftOut(BaseModel):
    draft_id: int
    customer_id: str | None
    customer_name: str | None
    status: str
    lines: list[DraftLineOut]
    total: Money
    order_id: int | None
    open_items: list[OpenItemOut] = Field(
        description="What was asked for but not placed as a line, with its question"
    )
    needs_attention: bool = Field(description="Open items remain: approve answers 409")
    confirmable: bool = Field(description="Confirming now would succeed")


class ToolCallOut(BaseModel):
    name: str
    args: dict[str, Any]
    result: Any = None


class TurnOut(BaseModel):
    thread_id: str
    reply: str = Field(description="What the user sees")
    draft: DraftOut | None = Field(description="The thread's draft after this turn")
    order_id: int | None = Field(description="Set when this turn confirmed an order")
    pending: bool = Field(description="A confirmation (approve / reject) is awaited")
    attention: list[str] = Field(
        description="Questions to answer before the order can be confirmed"
    )
    tool_calls: list[ToolCallOut]
    error: str | None = Field(description="Set when the model or a tool failed this turn")


class OrderLineOut(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price: Money
    discount: Decimal = Field(description="Fraction 0..1, as a decimal string")
    line_total: Money


class OrderOut(BaseModel):
    order_id: int
    customer_id: str
    customer_name: str
    status: Literal["confirmed", "cancelled"]
    created_at: datetime
    total: Money
    created_by: str | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]

    @field_validator("created_at", "cancelled_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # SQLite hands back naive UTC; answer with an offset on both backends.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


class OrderPage(BaseModel):
    orders: list[OrderOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thread_id: ThreadId
    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        # Printable text: tabs and newlines are fine, other control characters are not.
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
        examples=["Alfreds Futterkiste wants 12 Queso Cabrales and 5 mozzarella"],
    )


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId | None = Field(
        default=None, description="Refuse (403) unless the order belongs to this customer"
    )


class DatabaseHealth(BaseModel):
    ok: bool
    backend: Literal["sqlite", "postgresql"]
    pool: str
    error: str | None = None


class ChromaHealth(BaseModel):
    ok: bool
    mode: str
    collections: dict[str, int]
    error: str | None = None


class EmbedderHealth(BaseModel):
    ok: bool
    model: str
    error: str | None = None


class ModelHealth(BaseModel):
    ok: bool
    provider: str
    model: str


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: all parts up. degraded: orders are taken, but Chroma or the embedder "
        "is down (search falls back to spelling matches). unavailable: the database is down."
    )
    failing: list[str] = Field(description="Names of the parts that are down")
    auth: Literal["keys", "disabled"]
    database: DatabaseHealth
    chroma: ChromaHealth
    embedder: EmbedderHealth
    model: ModelHealth


# --- auth -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """The accepted API keys (as bytes), or `disabled` for the explicit demo mode."""

    keys: tuple[bytes, ...]
    disabled: bool = False

    def accepts(self, presented: str | None) -> bool:
        return self.owner_of(presented) is not None

    def owner_of(self, presented: str | None) -> str | None:
        """The thread owner id of the presented key (None: not a key of ours)."""
        if self.disabled:
            return DEMO_OWNER
        if not presented:
            return None
        # Headers arrive decoded as latin-1: this recovers the bytes the client sent.
        candidate = presented.encode("latin-1", "replace")
        # Compare against every key, without stopping early, so timing tells nothing.
        matched: bytes | None = None
        for key in self.keys:
            if hmac.compare_digest(candidate, key):
                matched = key
        return key_owner(matched) if matched is not None else None


def key_ring(settings: Settings) -> KeyRing:
    """The API's auth policy from Settings; raises ConfigError rather than run open."""
    keys = tuple(key.get_secret_value().encode() for key in settings.api_keys)
    if not settings.api_auth_disabled:
        if not keys:
            raise ConfigError(
                "API_KEYS is not set: the HTTP API does not run without keys. Set "
                "API_KEYS=key1,key2 (16+ characters each), or API_AUTH_DISABLED=true for a "
                "local demo on a loopback API_HOST."
            )
        return KeyRing(keys)
    if keys:
        raise ConfigError("API_AUTH_DISABLED=true and API_KEYS are both set: choose one.")
    if settings.api_host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"API_AUTH_DISABLED=true needs a loopback API_HOST (127.0.0.1, localhost, ::1), "
            f"not {settings.api_host!r}."
        )
    log.warning("HTTP API auth is DISABLED (API_AUTH_DISABLED=true): demo mode, loopback only")
    return KeyRing((), disabled=True)


api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="One of the keys in API_KEYS"
)


def require_key(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> None:
    owner = request.app.state.auth.owner_of(key)
    if owner is None:
        raise HTTPException(
            401, "Missing or invalid X-API-Key header.", headers={"WWW-Authenticate": "APIKey"}
        )
    request.state.owner = owner


def own_thread(request: Request, desk: OrderDesk, thread_id: str) -> str:
    """`thread_id` if the caller's key owns it (or it is new); 403 if another key's."""
    if not claim_thread(desk.engine, thread_id, request.state.owner):
        raise HTTPException(
            403,
            f"Thread {thread_id!r} belongs to another API key: use your own thread_id.",
        )
    return thread_id


def get_desk(request: Request) -> OrderDesk:
    return request.app.state.desk


Desk = Annotated[OrderDesk, Depends(get_desk)]


# --- rendering ------------------------------------------------------------------------


def search_out(result: SearchResult) -> SearchOut:
    return SearchOut(
        query=result.query,
        ambiguous=result.ambiguous,
        no_match=result.no_match,
        degraded=result.degraded,
        elapsed_ms=round(result.elapsed_ms, 2),
        candidates=[
            CandidateOut.model_validate(c, from_attributes=True) for c in result.candidates
        ],
    )


def draft_out(draft: DraftView | None) -> DraftOut | None:
    if draft is None:
        return None
    return DraftOut(
        **draft.model_dump(exclude={"thread_id", "needs_attention"}),
        needs_attention=draft.needs_attention,
        confirmable=draft.confirmable,
    )


def turn_out(thread_id: str, turn: Turn) -> TurnOut:
    data = turn.as_json()
    data["draft"] = draft_out(turn.draft)
    return TurnOut(thread_id=thread_id, **data)


def order_out(view: OrderView) -> OrderOut:
    return OrderOut.model_validate(view.model_dump())


# --- health ---------------------------------------------------------------------------


def _brief(error: BaseException) -> str:
    """Type and first line of an error: enough to act on, never a traceback or a secret."""
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}"[:300]


def database_health(desk: OrderDesk) -> DatabaseHealth:
    engine = desk.engine
    backend = "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        error = None
    except Exception as failure:  # noqa: BLE001 - any failure means "down", reported
        error = _brief(failure)
    return DatabaseHealth(ok=error is None, backend=backend, pool=engine.pool.status(), error=error)


def chroma_health(client: ClientAPI | None) -> ChromaHealth:
    report = health_check(client)
    return ChromaHealth(
        ok=report["reachable"],
        mode=report["mode"],
        collections=report["collections"],
        error=report["error"],
    )


def embedder_health() -> EmbedderHealth:
    try:
        get_embedder().embed_one("health check")  # cached after the first call
        error = None
    except Exception as failure:  # noqa: BLE001 - a missing or broken model is "down"
        error = _brief(failure)
    return EmbedderHealth(ok=error is None, model=MODEL_ID, error=error)


def check_health(app: FastAPI) -> HealthOut:
    desk: OrderDesk = app.state.desk
    parts = {
        "database": database_health(desk),
        "chroma": chroma_health(app.state.chroma),
        "embedder": embedder_health(),
        "model": ModelHealth(
            ok=True, provider=str(get_settings().llm_provider), model=desk.model_label
        ),
    }
    failing = [name for name, part in parts.items() if not part.ok]
    status = "unavailable" if "database" in failing else "degraded" if failing else "ok"
    return HealthOut(
        status=status,
        failing=failing,
        auth="disabled" if app.state.auth.disabled else "keys",
        **parts,
    )


# --- routes ---------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 413, 422, 503)
}
THREAD_ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}}
ORDER_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (403, 404, 409)
}

health_router = APIRouter(prefix="/api", tags=["health"])
router = APIRouter(prefix="/api", dependencies=[Depends(require_key)], responses=ERRORS)


@health_router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def get_health(request: Request) -> JSONResponse:
    """Database, Chroma, embedder and chat model, with the parts that are down.

    200 while orders can be taken (`ok`, or `degraded`: Chroma or the embedder is down and
    search falls back to spelling matches); 503 when the database is down.
    """
    report = check_health(request.app)
    status_code = 503 if report.status == "unavailable" else 200
    return JSONResponse(report.model_dump(mode="json"), status_code=status_code)


@router.get("/search", response_model=SearchOut, tags=["catalog"])
def search(
    desk: Desk,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What was typed")],
    k: Annotated[int, Query(ge=1, le=20, description="Candidates to return")] = 5,
) -> SearchOut:
    """Catalog candidates for a product phrase, best first, with scores and flags."""
    return search_out(desk.catalog.search(q, k=k))


@router.post("/chat", response_model=TurnOut, tags=["chat"], responses=THREAD_ERRORS)
def chat(request: Request, desk: Desk, body: ChatIn) -> TurnOut:
    """One turn of the thread: the reply, the draft, and the order if this turn confirmed one.

    A thread belongs to the API key that first used it; other keys get 403.
    """
    thread_id = own_thread(request, desk, body.thread_id)
    return turn_out(thread_id, desk.chat(thread_id, body.message, user=API_USER))


@router.post(
    "/chat/{thread_id}/approve",
    response_model=TurnOut,
    tags=["chat"],
    responses={**THREAD_ERRORS, 409: {"model": ErrorOut}},
)
def approve(request: Request, desk: Desk, thread_id: Annotated[ThreadId, Path()]) -> TurnOut:
    """The Confirm button: commit the thread's draft (once, however often it is sent).

    409 while the draft needs attention (open items): the detail names the questions to
    answer first, and nothing changes.
    """
    own_thread(request, desk, thread_id)
    turn = desk.approve(thread_id, user=API_USER)
    if turn.order_id is None and turn.attention:
        raise errors.DraftNeedsAttention(turn.attention)
    return turn_out(thread_id, turn)


@router.post(
    "/chat/{thread_id}/reject", response_model=TurnOut, tags=["chat"], responses=THREAD_ERRORS
)
def reject(request: Request, desk: Desk, thread_id: Annotated[ThreadId, Path()]) -> TurnOut:
    """The Cancel button: do not confirm, and discard the thread's open draft."""
    own_thread(request, desk, thread_id)
    return turn_out(thread_id, desk.reject(thread_id, user=API_USER))


@router.get("/orders", response_model=OrderPage, tags=["orders"])
def get_orders(
    desk: Desk,
    customer_id: Annotated[CustomerId | None, Query()] = None,
    status: Annotated[Literal["confirmed", "cancelled"] | None, Query()] = None,
    since: Annotated[UtcDateTime | None, Query(description="Created at or after")] = None,
    until: Annotated[UtcDateTime | None, Query(description="Created before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OrderPage:
    """Orders newest first, filtered by customer, status and creation time [since, until)."""
    with Session(desk.engine) as session:
        views = list_orders(
            session=session,
            customer_id=customer_id,
            status=OrderStatus(status) if status else None,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
    return OrderPage(
        orders=[order_out(view) for view in views],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(views) == limit else None,
    )


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"], responses=ORDER_ERRORS)
def get_order(desk: Desk, order_id: OrderId) -> OrderOut:
    """One order with its lines."""
    with Session(desk.engine) as session:
        return order_out(order_status(session=session, order_id=order_id))


@router.post(
    "/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"], responses=ORDER_ERRORS
)
def cancel(desk: Desk, order_id: OrderId, body: CancelIn | None = None) -> OrderOut:
    """Cancel a confirmed order and put its stock back, exactly once.

    Without `customer_id` any order may be cancelled (the key holder is trusted); with it,
    an order of another customer is refused with 403. A second cancel is a 409.
    """
    customer_id = body.customer_id if body else None
    with Session(desk.engine, expire_on_commit=False) as session, session.begin():
        view = cancel_order(session=session, order_id=order_id, customer_id=customer_id)
    return order_out(view)


# --- errors and limits ----------------------------------------------------------------

STATUS_OF_ERROR: dict[type[errors.OrderError], int] = {
    errors.OrderNotFound: 404,
    errors.DraftNotFound: 404,
    errors.UnknownCustomer: 404,
    errors.UnknownProduct: 404,
    errors.NotYourOrder: 403,
    errors.AlreadyCancelled: 409,
    errors.DraftClosed: 409,
    errors.DraftNeedsAttention: 409,
    errors.IdempotencyConflict: 409,
}


def _error(status_code: int, detail: str, **extra: Any) -> JSONResponse:
    body = ErrorOut(detail=detail, **extra).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status_code)


async def _order_error(_request: Request, error: Exception) -> JSONResponse:
    status_code = next(
        (STATUS_OF_ERROR[cls] for cls in type(error).__mro__ if cls in STATUS_OF_ERROR), 422
    )
    return _error(status_code, str(error))


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        FieldErrorOut(loc=list(item.get("loc", ())), msg=item.get("msg", "invalid"))
        for item in error.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems)
    return _error(422, f"Invalid request: {summary}", errors=problems)


async def _database_down(_request: Request, error: Exception) -> JSONResponse:
    log.error("database unavailable: %s", _brief(error))
    return _error(503, "The database is unavailable; please retry shortly.")


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=error)
    return _error(500, "Internal error; it has been logged.")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.OrderError, _order_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimit:
    """ASGI middleware: refuse bodies over `max_bytes` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not declared.isdigit():
            await _error(400, "Invalid Content-Length header.")(scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_bytes:
            await _error(413, self._detail())(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # FastAPI passes an HTTPException raised while reading the body through.
                raise HTTPException(413, self._detail())
            return message

        return counted

    def _detail(self) -> str:
        return f"Request body too large (the limit is {self.max_bytes // 1024} KB)."


# --- the app --------------------------------------------------------------------------


def create_app(desk: OrderDesk | None = None, *, chroma: ClientAPI | None = None) -> FastAPI:
    """The API over `desk` (tests) or over one `OrderDesk.open()` made at startup.

    `chroma` is the client whose health is reported (default: the process's). Settings
    (API_KEYS, API_AUTH_DISABLED) are read when the app starts, not at import.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = get_settings()
        if desk is None:
            configure_logging(settings)
        app.state.auth = key_ring(settings)
        app.state.chroma = chroma
        app.state.desk = desk or await run_in_threadpool(OrderDesk.open, settings=settings)
        log.info("HTTP API ready (model %s)", app.state.desk.model_label)
        try:
            yield
        finally:
            if desk is None:  # ours to close; an injected desk belongs to the caller
                app.state.desk.close()
                dispose_engine()

    app = FastAPI(
        title="Order Desk API",
        version="1.0.0",
        description=__doc__,
        lifespan=lifespan,
    )
    app.include_router(health_router)
    app.include_router(router)
    add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


app = create_app()

"""The app factory: `create_app(desk)` mounts the routers, the error handlers and the body
limit over one `OrderDesk`, built at start-up by `build_desk` unless a caller (a test)
injects its own.

`served_app()` is the app `uvicorn api:app` serves: it checks the API's settings first,
so a start without keys is one clear line and exit status 2, not a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from chromadb.api import ClientAPI
from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from agents.desk import OrderDesk
from api.deps import check_auth, key_ring, require_key
from api.errors import COMMON_ERRORS, MAX_BODY_BYTES, BodyLimit, add_error_handlers
from api.routes import chat, health, orders, search
from config import ConfigError, Settings, configure_logging, get_settings
from db.engine import dispose_engine

log = logging.getLogger(__name__)

EXIT_CONFIG = 2  # what a start refused by the settings exits with

DESCRIPTION = """\
HTTP API on port 8001: health, catalog search, chat turns and orders for other systems.

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


def build_desk(settings: Settings) -> OrderDesk:
    """The process's one desk (engine, catalog search, embedder, checkpointer) from Settings."""
    return OrderDesk.open(settings=settings)


def create_app(desk: OrderDesk | None = None, *, chroma: ClientAPI | None = None) -> FastAPI:
    """The API over `desk` (tests) or over one `build_desk()` made at startup.

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
        app.state.desk = desk or await run_in_threadpool(build_desk, settings)
        log.info("HTTP API ready (model %s)", app.state.desk.model_label)
        try:
            yield
        finally:
            if desk is None:  # ours to close; an injected desk belongs to the caller
                app.state.desk.close()
                dispose_engine()

    app = FastAPI(
        title="Order Desk API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.include_router(health.router, prefix="/api")
    keyed = APIRouter(prefix="/api", dependencies=[Depends(require_key)], responses=COMMON_ERRORS)
    for resource in (search, chat, orders):
        keyed.include_router(resource.router)
    app.include_router(keyed)
    add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


@cache
def served_app() -> FastAPI:
    """The app of `uvicorn api:app`, after the settings it cannot run without are checked.

    The lifespan would refuse them too, but only inside uvicorn's 30-line traceback.
    """
    try:
        check_auth(get_settings())
    except ConfigError as error:
        # Logging is not configured yet, and this is the one line the operator must see.
        print(f"Order Desk API not started: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    return create_app()

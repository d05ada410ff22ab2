"""The app factory: `create_app(desk)` mounts the routers, the error handlers and the body
limit over one `OrderDesk`, built at start-up with everything else by the composition root
(`bootstrap.build_services`) unless a caller (a test) injects its own.

`served_app()` is the app `uvicorn api:app` serves: it checks the settings, the keys, the
database and its schema first, so a start that cannot work is one line on stderr saying
what to fix and exit status 2, not a traceback. `preflight()` is the same check before
the schema exists (`./scripts/api` runs it before it migrates).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import NoReturn

from chromadb.api import ClientAPI
from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from agents.desk import OrderDesk
from api.deps import check_auth, key_ring, require_key
from api.errors import COMMON_ERRORS, MAX_BODY_BYTES, BodyLimit, add_error_handlers
from api.routes import chat, documents, health, orders, search
from api.routes.events import router as events_router
from bootstrap import Services, build_services, database_problem
from config import ConfigError, configure_logging, get_settings
from rag.chroma import ChromaConnection

log = logging.getLogger(__name__)

EXIT_CONFIG = 2  # what a start refused by the settings exits with

DESCRIPTION = """\
HTTP API on port 8001: health, catalog search, chat turns and orders for other systems.

A FastAPI app over the same `OrderDesk` facade and `orders/` functions as the UI; routes
only validate, call and render. `create_app(desk)` builds it (tests inject a desk on
their own store); `app = create_app()` is what `uvicorn api:app --port 8001` serves, and
its lifespan builds the process's services once (engine, Chroma, embedder, catalog search,
memory, checkpointer, one `OrderDesk`), shared by every request. Every route but
`/api/health` needs an `X-API-Key` header matching one of `API_KEYS`; with no keys
configured the API refuses to start unless `API_AUTH_DISABLED=true` (a demo mode, allowed
on a loopback `API_HOST` only). Bodies are capped at 64 KB; bad input is a 422 naming
each field, domain refusals are 4xx with the order domain's message, and no response ever
carries a stack trace.
"""


def create_app(desk: OrderDesk | None = None, *, chroma: ClientAPI | None = None) -> FastAPI:
    """The API over `desk` (tests) or over the services `build_services()` makes at startup.

    `chroma` is the client whose health is reported (default: the services' connection,
    or - beside an injected desk - one from Settings). Settings (API_KEYS,
    API_AUTH_DISABLED) are read when the app starts, not at import.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = get_settings()
        if desk is None:
            configure_logging(settings)
        app.state.auth = key_ring(settings)
        services: Services | None = None
        if desk is None:
            services = await run_in_threadpool(build_services, settings, chroma=chroma)
        app.state.services = services
        app.state.desk = desk or services.desk  # type: ignore[union-attr]
        app.state.chroma = (
            chroma
            or (services.chroma_connection if services is not None else None)
            or ChromaConnection(settings)
        )
        log.info("HTTP API ready (model %s)", app.state.desk.model_label)
        try:
            yield
        finally:
            if services is not None:  # ours to close; an injected desk belongs to the caller
                await run_in_threadpool(services.close)

    app = FastAPI(
        title="Order Desk API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.include_router(health.router, prefix="/api")
    keyed = APIRouter(prefix="/api", dependencies=[Depends(require_key)], responses=COMMON_ERRORS)
    for resource in (search, chat, orders, documents):
        keyed.include_router(resource.router)
    keyed.include_router(events_router)  # an order's audit trail
    app.include_router(keyed)
    add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


@cache
def served_app() -> FastAPI:
    """The app of `uvicorn api:app`, once everything it cannot run without is checked.

    The lifespan would refuse the same things, but only inside uvicorn's 30-line traceback.
    """
    problem = startup_problem()
    if problem is not None:
        refuse_to_start(problem)
    return create_app()


def preflight() -> None:
    """The launcher's check before it migrates: settings, keys and a database that answers
    (not its schema: migrating comes next). Prints `API_HOST API_PORT` for the launcher, or
    refuses like `served_app`."""
    problem = startup_problem(schema=False)
    if problem is not None:
        refuse_to_start(problem)
    settings = get_settings()
    print(settings.api_host, settings.api_port)


def startup_problem(*, schema: bool = True) -> str | None:
    """What keeps the API from starting, in one line that says what to do (None: nothing).

    In order: the settings (ConfigError), the API keys (`check_auth`), then the database
    (`bootstrap.database_problem`: reachable and, with `schema`, current).
    """
    try:
        settings = get_settings()
        check_auth(settings)
    except ConfigError as error:
        return one_line(str(error))
    return database_problem(settings, schema=schema)


def refuse_to_start(problem: str) -> NoReturn:
    """One line on stderr and exit status 2 (logging is not configured yet, and this is the
    line the operator must see)."""
    print(f"Order Desk API not started: {problem}", file=sys.stderr)
    raise SystemExit(EXIT_CONFIG)


def one_line(text: str) -> str:
    """A multi-line message (e.g. one ConfigError per invalid field) as one line."""
    head, *rest = [line.strip() for line in text.strip().splitlines() if line.strip()] or [""]
    return " ".join([head, "; ".join(rest)]) if rest else head

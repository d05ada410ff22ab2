"""The app factory: `create_app(desk)` mounts the routers, the error handlers and the body
limit over one `OrderDesk`, built at start-up with everything else by the composition root
(`bootstrap.build_services`) unless a caller (a test) injects its own.

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
from sqlalchemy import exc as sa_exc

from agents.desk import OrderDesk
from api.deps import check_auth, key_ring, require_key
from api.errors import COMMON_ERRORS, MAX_BODY_BYTES, BodyLimit, add_error_handlers
from api.routes import chat, health, orders, search
from bootstrap import Services, build_services
from config import ConfigError, Settings, configure_logging, get_settings
from db.engine import create_db_engine
from db.migrate import MigrationError, check_current
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
        settings = get_settings()
        check_auth(settings)
        _check_schema(settings)
    except (ConfigError, MigrationError) as error:
        # Logging is not configured yet, and this is the one line the operator must see.
        print(f"Order Desk API not started: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    return create_app()


def _check_schema(settings: Settings) -> None:
    """SchemaNotCurrent (with the command that fixes it) unless the database is current;
    a database that cannot be reached is a MigrationError too: one line, not a traceback."""
    engine = create_db_engine(settings)
    try:
        check_current(engine)
    except sa_exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise MigrationError(f"the database could not be reached ({reason})") from error
    finally:
        engine.dispose()

"""How failures become responses: one table from domain errors to statuses, the handlers,
the request-body limit, and the error responses each route documents.

No response ever carries a stack trace: bad input is a 422 naming each field, a domain
refusal is a 4xx with the order domain's message, a database outage is a 503, a
conversation held by another request is a 409 with the (empty) turn, and anything else
is a logged 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import BusyOut, ErrorOut, FieldErrorOut, TurnOut
from bootstrap import DATABASE_UNAVAILABLE
from orders import errors

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
BUSY_DETAIL = "This conversation is busy with another request; try again in a moment."

# What the routes document (the OpenAPI `responses`), beside their 200.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 413, 422, 503)
}
BUSY_ERROR: dict[int | str, dict[str, Any]] = {
    409: {"model": BusyOut, "description": "Another request holds this conversation: retry"}
}
THREAD_ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}, **BUSY_ERROR}
ORDER_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (403, 404, 409)
}

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


class ConversationBusy(Exception):
    """A turn refused because another request (in any process) held its thread too long."""

    def __init__(self, turn: TurnOut) -> None:
        super().__init__(BUSY_DETAIL)
        self.turn = turn


def brief(error: BaseException) -> str:
    """Type and first line of an error: enough to act on, never a traceback or a secret."""
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}"[:300]


def _error(status_code: int, detail: str, **extra: Any) -> JSONResponse:
    body = ErrorOut(detail=detail, **extra).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status_code)


async def _order_error(_request: Request, error: Exception) -> JSONResponse:
    status_code = next(
        (STATUS_OF_ERROR[cls] for cls in type(error).__mro__ if cls in STATUS_OF_ERROR), 422
    )
    return _error(status_code, str(error))


async def _busy(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ConversationBusy)
    body = BusyOut(detail=BUSY_DETAIL, turn=error.turn)
    return JSONResponse(body.model_dump(mode="json"), status_code=409)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        FieldErrorOut(loc=list(item.get("loc", ())), msg=item.get("msg", "invalid"))
        for item in error.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems)
    return _error(422, f"Invalid request: {summary}", errors=problems)


async def _database_down(_request: Request, error: Exception) -> JSONResponse:
    log.error("database unavailable: %s", brief(error))
    return _error(503, "The database is unavailable; please retry shortly.")


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=error)
    return _error(500, "Internal error; it has been logged.")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.OrderError, _order_error)
    app.add_exception_handler(ConversationBusy, _busy)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for outage in DATABASE_UNAVAILABLE:
        app.add_exception_handler(outage, _database_down)
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

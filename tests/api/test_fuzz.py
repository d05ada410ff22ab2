"""Property-based fuzzing of every route from the app's own OpenAPI schema (schemathesis).

Schemathesis generates valid and invalid requests for each operation and runs all its
checks on every answer: never a 5xx, status codes, content types and bodies as the schema
declares them, invalid data rejected and valid data accepted, the key honoured (it also
probes without it). Bounded so the suite stays fast: MAX_EXAMPLES per operation and
backend, derandomised so a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from starlette.types import ASGIApp, Receive, Scope, Send

from api import create_app
from tests.api.conftest import KEY

MAX_EXAMPLES = 25


class CurrentApp:
    """The ASGI app schemathesis talks to: it forwards to the app of the running test.

    Each test's app is started (lifespan) by its own TestClient on that test's store, so
    the lifespan messages schemathesis sends are answered here and not forwarded.
    """

    def __init__(self, target: ASGIApp) -> None:
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.target(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


current = CurrentApp(create_app())  # serving /openapi.json needs no desk
schema = schemathesis.openapi.from_asgi("/openapi.json", current)


@pytest.fixture
def tested(app: FastAPI, client: TestClient) -> Iterator[None]:
    # `client` has run this test's lifespan: desk, keys, Chroma client are in app.state.
    current.target = app
    yield
    current.target = create_app()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_route_against_its_schema(case: schemathesis.Case, tested: None) -> None:
    case.call_and_validate(headers={"X-API-Key": KEY})

"""The FastAPI service on port 8001 (`uvicorn api:app`), shaped like the backend of
full-stack-fastapi-template: `main` (app factory, lifespan), `deps` (settings, desk, key,
owned threads), `schemas`, `render`, `errors`, and one router per resource in `routes/`.

`app` is made on first access (that is, when uvicorn loads it), so importing `api`
reads no settings; `create_app` builds others (the tests inject their own desk).
"""

from __future__ import annotations

from typing import Any

from api.main import create_app, served_app

__all__ = ["app", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        return served_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""GET /api/health: each part (database, Chroma, embedder, chat model) up or down.

The only route without a key, so load balancers and people can ask it; it names the
parts that are down and never shows a traceback or a secret.
"""

from __future__ import annotations

from chromadb.api import ClientAPI
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from agents.desk import OrderDesk
from api.deps import ChromaDep, DeskDep, SettingsDep
from api.errors import brief
from api.schemas import ChromaHealth, DatabaseHealth, EmbedderHealth, HealthOut, ModelHealth
from rag.chroma import ChromaConnection, health_check
from rag.embeddings import MODEL_ID

router = APIRouter(tags=["health"])


def database_health(desk: OrderDesk) -> DatabaseHealth:
    engine = desk.engine
    backend = "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        error = None
    except Exception as failure:  # noqa: BLE001 - any failure means "down", reported
        error = brief(failure)
    return DatabaseHealth(ok=error is None, backend=backend, pool=engine.pool.status(), error=error)


def chroma_health(chroma: ChromaConnection | ClientAPI) -> ChromaHealth:
    report = health_check(chroma)
    return ChromaHealth(
        ok=report["reachable"],
        mode=report["mode"],
        collections=report["collections"],
        error=report["error"],
    )


def embedder_health(desk: OrderDesk) -> EmbedderHealth:
    """The embedder the desk's catalog search embeds queries with."""
    try:
        desk.catalog.embedder.embed_one("health check")  # cached after the first call
        error = None
    except Exception as failure:  # noqa: BLE001 - a missing or broken model is "down"
        error = brief(failure)
    return EmbedderHealth(ok=error is None, model=MODEL_ID, error=error)


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def get_health(
    request: Request, desk: DeskDep, chroma: ChromaDep, settings: SettingsDep
) -> JSONResponse:
    """Database, Chroma, embedder and chat model, with the parts that are down.

    200 while orders can be taken (`ok`, or `degraded`: Chroma or the embedder is down and
    search falls back to spelling matches); 503 when the database is down.
    """
    parts = {
        "database": database_health(desk),
        "chroma": chroma_health(chroma),
        "embedder": embedder_health(desk),
        "model": ModelHealth(ok=True, provider=str(settings.llm_provider), model=desk.model_label),
    }
    failing = [name for name, part in parts.items() if not part.ok]
    status = "unavailable" if "database" in failing else "degraded" if failing else "ok"
    report = HealthOut(
        status=status,
        failing=failing,
        auth="disabled" if request.app.state.auth.disabled else "keys",
        **parts,
    )
    status_code = 503 if status == "unavailable" else 200
    return JSONResponse(report.model_dump(mode="json"), status_code=status_code)

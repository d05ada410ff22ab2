"""GET /api/search: catalog candidates for what was typed, with their scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DeskDep
from api.render import search_out
from api.schemas import SearchOut, SearchQuery

router = APIRouter(tags=["catalog"])


@router.get("/search", response_model=SearchOut)
def search(desk: DeskDep, query: Annotated[SearchQuery, Query()]) -> SearchOut:
    """Catalog candidates for a product phrase, best first, with scores and flags."""
    return search_out(desk.catalog.search(query.q, k=query.k))

"""Domain results as response models: search results, drafts, turns and orders.

The only place that knows how a domain object maps onto its JSON, so routes stay one
call and one render.
"""

from __future__ import annotations

from agents.desk import Turn
from api.schemas import CandidateOut, DraftOut, OrderOut, SearchOut, TurnOut
from orders.schemas import DraftView, OrderView
from rag.search import SearchResult


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

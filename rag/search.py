"""Hybrid catalog search: turns what sales staff type into product candidates, or says it can't.

A query is scored two ways and the scores fused: by meaning (all-MiniLM-L6-v2 vectors in
the Chroma `catalog` collection, cosine similarity) and by spelling (the accent-folded,
typo-tolerant `LexicalIndex` over names), with a boost when the query is a product's
whole name. The result says whether the top candidates are too close to pick one
(`ambiguous`), whether nothing matches well enough to use (`no_match`), and whether
Chroma was unavailable so only spelling was used (`degraded`). Price, stock and status
always come from SQL at query time, never from the index or from what the user typed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import Product
from orders.stock import availability, live_holds
from rag.alternatives import MAX_ALTERNATIVES, Alternatives, Stocked, rank
from rag.embeddings import MiniLMEmbeddingFunction
from rag.lexical import LexicalHit, LexicalIndex, fold

log = logging.getLogger(__name__)

VECTOR_FLOOR, VECTOR_CEILING = 0.30, 0.75  # cosine similarity mapped to 0..1 between these
MEANING_CAP = 0.9
EXACT_BOOST = 0.25
NO_MATCH_BELOW = 0.50  # best fused score under this: ask, don't guess
MEANING_ONLY_BELOW = 0.60  # the same, for a best candidate that shares no word with the query
# ... and for spelling alone: a best candidate the meaning search does not support at all
# needs more than a fragment shared with one word of its name ("wants" in "Fantástica").
SPELLING_ONLY_COVERAGE = 0.70
AMBIGUOUS_WITHIN = 0.03  # runner-up this close to the best on every signal: ask which one
SIGNALS_DISAGREE_WITHIN = 0.05  # ... or this close when spelling and meaning disagree
SEPARATES = 0.10  # a lexical or meaning gap this large tells two candidates apart
FULL_COVERAGE = 0.90  # the query's words all match this name (typos allowed)
SHARED_PHRASE_GAP = 0.05  # two names covering the whole query, lexically this close
LEXICAL_SHORTLIST = 50
VECTOR_SHORTLIST = 30
ALTERNATIVES_SHORTLIST = 200  # same-category neighbours read from Chroma, at most
RETRY_CHROMA_AFTER_S = 30.0
DETAIL_WEIGHT = 0.8  # a description word is weaker evidence than a name word


@dataclass(frozen=True)
class Candidate:
    """One catalog product proposed for a query; price and stock are read from SQL."""

    product_id: int
    name: str
    category: str
    quantity_per_unit: str | None
    unit_price: Decimal
    units_in_stock: int
    discontinued: bool
    score: float  # 0..1, higher is better
    lexical: float = 0.0  # the spelling part of the score, 0..1
    semantic: float | None = None  # cosine similarity of meaning; None when not measured
    meaning: float = 0.0  # `semantic` mapped to 0..1 as used in the score
    coverage: float = 0.0  # share of the query's words matched in the name
    exact: bool = False  # the query is the product's whole name (accents, case aside)
    held: int = 0  # units open drafts' live holds take (orders.stock)

    @property
    def available(self) -> int:
        """Units a new draft may have: in stock less what open drafts hold."""
        return max(self.units_in_stock - self.held, 0)


@dataclass(frozen=True)
class SearchResult:
    """Candidates for one query, best first, with what the caller should do about them."""

    query: str
    candidates: list[Candidate]
    ambiguous: bool
    no_match: bool
    degraded: bool
    elapsed_ms: float = field(default=0.0, compare=False)

    @property
    def best(self) -> Candidate | None:
        """The pick when the answer is clear, else None (ask the user)."""
        if self.ambiguous or self.no_match or not self.candidates:
            return None
        return self.candidates[0]


@dataclass(frozen=True)
class _Catalog:
    """The SQL catalog as the lexical index sees it (names only; no prices)."""

    ids: list[int]
    index: LexicalIndex
    details: LexicalIndex  # the plain-English descriptions, same rows


@dataclass
class _Scored:
    row: int
    lexical: float = 0.0
    coverage: float = 0.0
    exact: bool = False
    semantic: float | None = None
    meaning: float = 0.0
    score: float = 0.0


class CatalogSearch:
    """Search over one catalog: lexical index in memory, vectors in Chroma, facts in SQL.

    `collection` is the Chroma catalog collection; or `connect` makes it when first needed
    (and again, at most every RETRY_CHROMA_AFTER_S, after Chroma failed), so a search made
    while Chroma was down uses vectors once it is back; with neither, spelling only.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        embedder: MiniLMEmbeddingFunction,
        collection: Collection | None = None,
        connect: Callable[[], Collection] | None = None,
    ) -> None:
        self._engine = engine
        self._collection = collection
        self._embedder = embedder
        self._connect = connect
        self._lazy_collection = collection is None and connect is not None
        self._chroma_failed_at: float | None = None
        self._lock = threading.Lock()
        self._catalog = self._load_catalog()

    @property
    def embedder(self) -> MiniLMEmbeddingFunction:
        """The embedder queries are embedded with."""
        return self._embedder

    def refresh(self) -> None:
        """Reload names from SQL (after products were added, renamed or removed)."""
        self._catalog = self._load_catalog()

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Up to `k` candidates for `query`, best first, flagged ambiguous / no_match / degraded."""
        started = time.perf_counter()
        if not query.strip():  # nothing to look for; not a sign that Chroma is down
            return SearchResult(query, [], ambiguous=False, no_match=True, degraded=False)
        catalog = self._catalog
        lexical_hits = _with_details(
            catalog.index.search(query, limit=LEXICAL_SHORTLIST),
            catalog.details.search(query, limit=LEXICAL_SHORTLIST),
        )
        semantic = self._semantic(query, catalog)
        degraded = semantic is None
        scored = _fuse(lexical_hits, semantic or {})
        ranked = sorted(
            scored.values(), key=lambda s: (-s.score, -s.lexical, -s.meaning, catalog.ids[s.row])
        )
        candidates = self._candidates(ranked[: max(k, 2)], catalog)
        ambiguous, no_match = _judge(candidates, degraded=degraded)
        return SearchResult(
            query=query,
            candidates=candidates[:k],
            ambiguous=ambiguous,
            no_match=no_match,
            degraded=degraded,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def alternatives(
        self,
        product_id: int,
        *,
        quantity: int = 1,
        limit: int = MAX_ALTERNATIVES,
        exclude: Iterable[int] = (),
        excluding_draft_id: int | None = None,
    ) -> Alternatives:
        """Up to `limit` products to offer instead of `product_id`: same category, not
        discontinued, units available (for the draft `excluding_draft_id`: stock less the
        other drafts' live holds), never the product itself nor one in `exclude` (the
        draft's other lines); those covering `quantity` first, each group nearest by
        meaning (`rag.alternatives`). Without Chroma, by spelling, and `degraded`."""
        with Session(self._engine) as session:
            product = session.get(Product, product_id)
            if product is None:
                return Alternatives(product_id)
            stocked = self._stocked(session, product, set(exclude), excluding_draft_id)
            # Every product of the category may be nearer than the stocked ones.
            in_category = session.scalar(
                select(func.count()).where(Product.category == product.category)
            )
        if not stocked:
            return Alternatives(product_id)
        similarity = self._neighbours(product, int(in_category or 1))
        degraded = similarity is None
        if similarity is None:
            similarity = self._spelled_alike(product, stocked)
        options = rank(stocked, similarity, quantity=quantity, limit=limit)
        return Alternatives(product_id, options, degraded=degraded)

    # -- pieces -------------------------------------------------------------------------

    def _stocked(
        self, session: Session, product: Product, exclude: set[int], draft_id: int | None
    ) -> list[Stocked]:
        """The same-category products that could be offered, with their availability."""
        rows = session.scalars(
            select(Product).where(
                Product.category == product.category,
                Product.product_id != product.product_id,
                Product.discontinued.is_(False),
                Product.units_in_stock > 0,
            )
        ).all()
        rows = [row for row in rows if row.product_id not in exclude]
        seen = availability(session, [row.product_id for row in rows], excluding_draft_id=draft_id)
        return [
            Stocked(
                product_id=row.product_id,
                name=row.name,
                quantity_per_unit=row.quantity_per_unit,
                unit_price=Decimal(row.unit_price),
                available=seen[row.product_id].available,
            )
            for row in rows
            if row.product_id in seen
        ]

    def _neighbours(self, product: Product, wanted: int) -> dict[int, float] | None:
        """Product id → cosine similarity to `product`, for the nearest products of its
        category, its own indexed vector the query; None when Chroma is unusable."""
        collection = self._usable_collection()
        if collection is None:
            return None
        try:
            own = collection.get(ids=[str(product.product_id)], include=["embeddings"])
            embeddings = own.get("embeddings")
            if embeddings is not None and len(embeddings):
                vector = embeddings[0]
            else:  # not indexed yet: its name stands for it
                vector = self._embedder.embed_one(product.name)
            found = collection.query(
                query_embeddings=[vector],
                n_results=max(1, min(wanted, ALTERNATIVES_SHORTLIST)),
                where={"category": product.category},
                include=["distances"],
            )
        except Exception as error:  # noqa: BLE001 - any Chroma failure degrades to lexical
            self._chroma_failed(error)
            return None
        return {
            int(record_id): 1.0 - float(distance)
            for record_id, distance in zip(found["ids"][0], found["distances"][0], strict=True)
        }

    def _spelled_alike(self, product: Product, stocked: list[Stocked]) -> dict[int, float]:
        """Product id → how alike the names and descriptions are spelled (0..1), for when
        there are no vectors: the product's name searched among names, its description
        among descriptions, the better of the two."""
        catalog = self._catalog
        wanted = {item.product_id for item in stocked}
        alike: dict[int, float] = {}
        searches = [(catalog.index, product.name), (catalog.details, product.description or "")]
        for index, text in searches:
            if not text.strip():
                continue
            for hit in index.search(text, limit=LEXICAL_SHORTLIST * 4):
                product_id = catalog.ids[hit.row]
                if product_id in wanted:
                    alike[product_id] = max(alike.get(product_id, 0.0), hit.score)
        return alike

    def _load_catalog(self) -> _Catalog:
        query = select(Product.product_id, Product.name, Product.description).order_by(
            Product.product_id
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return _Catalog(
            ids=[row[0] for row in rows],
            index=LexicalIndex([row[1] for row in rows]),
            details=LexicalIndex([row[2] or "" for row in rows]),
        )

    def _semantic(self, query: str, catalog: _Catalog) -> dict[int, float] | None:
        """Row → cosine similarity for the nearest products, or None when Chroma is unusable."""
        collection = self._usable_collection()
        if collection is None or not query.strip():
            return None
        try:
            vector = self._embedder.embed_one(query)
            found = collection.query(
                query_embeddings=[vector],
                n_results=min(VECTOR_SHORTLIST, max(catalog.index.size, 1)),
                include=["distances"],
            )
        except Exception as error:  # noqa: BLE001 - any Chroma failure degrades to lexical
            self._chroma_failed(error)
            return None
        row_of = {product_id: row for row, product_id in enumerate(catalog.ids)}
        similarities: dict[int, float] = {}
        for record_id, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            row = row_of.get(int(record_id))
            if row is not None:
                similarities[row] = 1.0 - float(distance)
        return similarities or None

    def _usable_collection(self) -> Collection | None:
        if self._collection is not None:
            return self._collection
        failed_at = self._chroma_failed_at
        if not self._lazy_collection or (
            failed_at is not None and time.monotonic() - failed_at < RETRY_CHROMA_AFTER_S
        ):
            return None
        with self._lock:
            if self._collection is None:
                try:
                    assert self._connect is not None  # a lazy collection has a way to it
                    self._collection = self._connect()
                    self._chroma_failed_at = None
                except Exception as error:  # noqa: BLE001 - reported, then lexical only
                    self._chroma_failed(error)
        return self._collection

    def _chroma_failed(self, error: Exception) -> None:
        log.warning("catalog search without vectors (Chroma unavailable): %s", error)
        self._chroma_failed_at = time.monotonic()
        if self._lazy_collection:
            self._collection = None

    def _candidates(self, ranked: list[_Scored], catalog: _Catalog) -> list[Candidate]:
        """Fresh facts from SQL for the ranked rows; rows deleted since refresh are dropped."""
        ids = [catalog.ids[s.row] for s in ranked]
        if not ids:
            return []
        holds = live_holds().subquery()
        query = (
            select(
                Product.product_id,
                Product.name,
                Product.category,
                Product.quantity_per_unit,
                Product.unit_price,
                Product.units_in_stock,
                Product.discontinued,
                func.coalesce(holds.c.held, 0).label("held"),
            )
            .outerjoin(holds, holds.c.product_id == Product.product_id)
            .where(Product.product_id.in_(ids))
        )
        with self._engine.connect() as connection:
            facts = {row.product_id: row for row in connection.execute(query)}
        return [
            _candidate(facts[catalog.ids[s.row]], s) for s in ranked if catalog.ids[s.row] in facts
        ]


def _candidate(row: object, scored: _Scored) -> Candidate:
    return Candidate(
        product_id=row.product_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        category=row.category,  # type: ignore[attr-defined]
        quantity_per_unit=row.quantity_per_unit,  # type: ignore[attr-defined]
        unit_price=Decimal(row.unit_price),  # type: ignore[attr-defined]
        units_in_stock=int(row.units_in_stock),  # type: ignore[attr-defined]
        discontinued=bool(row.discontinued),  # type: ignore[attr-defined]
        held=int(row.held),  # type: ignore[attr-defined]
        score=round(scored.score, 4),
        lexical=round(scored.lexical, 4),
        semantic=None if scored.semantic is None else round(scored.semantic, 4),
        meaning=round(scored.meaning, 4),
        coverage=round(scored.coverage, 4),
        exact=scored.exact,
    )


def _with_details(names: list[LexicalHit], details: list[LexicalHit]) -> list[LexicalHit]:
    """Words of a product's description count as spelling evidence too, a little less than
    words of its name, when they cover the whole query ("kelp" → Konbu, whose description
    is "Japanese dried kelp seaweed")."""
    best = {hit.row: hit for hit in names}
    for hit in details:
        if hit.coverage < FULL_COVERAGE:
            continue  # "oat milk" is not Geitost just because its description says milk
        weighted = DETAIL_WEIGHT * hit.score
        current = best.get(hit.row)
        if current is None or (not current.exact and weighted > current.score):
            best[hit.row] = LexicalHit(
                row=hit.row,
                score=weighted,
                coverage=max(hit.coverage, current.coverage if current else 0.0),
                exact=False,
            )
    return sorted(best.values(), key=lambda hit: -hit.score)


def _fuse(lexical_hits: list[LexicalHit], semantic: dict[int, float]) -> dict[int, _Scored]:
    """Combine both signals per product; lexical only when there are no vectors."""
    scored: dict[int, _Scored] = {}
    for hit in lexical_hits:
        scored[hit.row] = _Scored(
            row=hit.row, lexical=hit.score, coverage=hit.coverage, exact=hit.exact
        )
    for row, similarity in semantic.items():
        scored.setdefault(row, _Scored(row=row)).semantic = similarity
    # Products outside the vector shortlist are at most as similar as its last member.
    floor = min(semantic.values(), default=0.0)
    for item in scored.values():
        if semantic:
            sim = item.semantic if item.semantic is not None else floor
            # Capped below 1 so that meaning alone never ties spelling that also agrees.
            meaning = MEANING_CAP * min(
                max((sim - VECTOR_FLOOR) / (VECTOR_CEILING - VECTOR_FLOOR), 0.0), 1.0
            )
            item.meaning = meaning
            # Either signal alone can carry a match (a typo'd proper noun has no meaning
            # the model knows; a description shares no word with the name); both agreeing
            # is stronger than either.
            item.score = 1 - (1 - item.lexical) * (1 - meaning)
        else:
            item.score = item.lexical
        if item.exact:
            item.score = min(1.0, item.score + EXACT_BOOST)
    return scored


def _judge(candidates: list[Candidate], *, degraded: bool = False) -> tuple[bool, bool]:
    """(ambiguous, no_match) for candidates sorted best first."""
    if not candidates or candidates[0].score < NO_MATCH_BELOW:
        return False, True
    best = candidates[0]
    if best.lexical == 0 and best.score < MEANING_ONLY_BELOW:
        return False, True  # no word typed is in the name: meaning alone must be strong
    if not degraded and best.meaning == 0 and best.coverage < SPELLING_ONLY_COVERAGE:
        return False, True  # a word fragment, and the meaning points elsewhere
    if len(candidates) < 2:
        return False, False
    return _too_close(candidates[0], candidates[1]), False


def _too_close(best: Candidate, runner_up: Candidate) -> bool:
    """Whether nothing the user typed tells the two best candidates apart."""
    if fold(best.name) == fold(runner_up.name):
        return True  # same-name products ("Staples" x 10)
    if best.exact != runner_up.exact:
        return False  # the user typed one product's whole name
    lexical_gap = best.lexical - runner_up.lexical
    if min(best.coverage, runner_up.coverage) >= FULL_COVERAGE:
        # Both names contain every word typed ("louisiana hot", "queso").
        return lexical_gap < SHARED_PHRASE_GAP
    score_gap = best.score - runner_up.score
    if (
        score_gap <= SIGNALS_DISAGREE_WITHIN
        and lexical_gap * (best.meaning - runner_up.meaning) < 0
    ):
        return True  # spelling prefers one, meaning the other, and the totals are close
    return (
        score_gap <= AMBIGUOUS_WITHIN
        and abs(lexical_gap) < SEPARATES
        and abs(best.meaning - runner_up.meaning) < SEPARATES
    )

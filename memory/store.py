"""Long-term customer memory: a Chroma `memories` collection with a mem0-shaped API.

Every memory belongs to exactly one customer (`customer_id` metadata) and has a kind
(`order_summary`, `preference`, `note`), a creation time and the conversation thread it
came from. `MemoryStore` offers `add`, `search`, `list`, `get`, `update`, `delete` and
`delete_all`; every read is filtered by `where={"customer_id": ...}` and every delete
names ids or a customer, never nothing, so one customer's memories can neither be read
nor wiped through another's. Texts are embedded with the catalog's embedder
(all-MiniLM-L6-v2, cosine space). The composition root (`bootstrap.build_services`) opens
the store on the process's Chroma (`open_memory_store`); tests and the evaluation runner
open their own.
"""

from __future__ import annotations

import builtins
import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import httpx
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from config import Settings
from rag.embeddings import MiniLMEmbeddingFunction

log = logging.getLogger(__name__)

MEMORY_COLLECTION = "memories"
Kind = Literal["order_summary", "preference", "note"]
KINDS: tuple[str, ...] = get_args(Kind)
MAX_TEXT_CHARS = 1_000
PAGE = 5_000  # records read from / written to Chroma per call
CUSTOMER_ID = re.compile(r"^[A-Z0-9]{1,20}$")
RETRY_CHROMA_AFTER_S = 30.0  # after Chroma fails, memory calls fail fast for this long
# What an unreachable, frozen or broken Chroma raises (not a refused request).
CHROMA_DOWN = (httpx.HTTPError, ConnectionError, TimeoutError, OSError)
Progress = Callable[[int, int], None]  # (memories written so far, memories to write)


class MemoryRefused(ValueError):
    """A memory request that cannot be honoured; the message is for people."""


@dataclass(frozen=True)
class Memory:
    """One remembered fact about one customer. `score` is set by `search` only (0..1)."""

    id: str
    customer_id: str
    text: str
    kind: str
    created_at: datetime
    thread_id: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class NewMemory:
    """A memory to write in bulk (`add_many`); `id` makes the write idempotent."""

    customer_id: str
    text: str
    kind: str = "note"
    thread_id: str | None = None
    id: str | None = None
    created_at: datetime | None = None


def check_customer_id(customer_id: object) -> str:
    """The customer id in canonical form (upper case), or MemoryRefused."""
    if not isinstance(customer_id, str) or not customer_id.strip():
        raise MemoryRefused("a memory needs a customer id; none was given")
    canonical = customer_id.strip().upper()
    if not CUSTOMER_ID.match(canonical):
        raise MemoryRefused(f"{customer_id!r} is not a customer id (letters, digits: ALFKI)")
    return canonical


def check_text(text: object) -> str:
    """The text with control characters and runs of spaces removed, or MemoryRefused."""
    if not isinstance(text, str):
        raise MemoryRefused("a memory's text must be a string")
    printable = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", printable).strip()
    if not cleaned:
        raise MemoryRefused("a memory's text is empty")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise MemoryRefused(
            f"a memory's text is too long ({len(cleaned):,} characters; the limit is "
            f"{MAX_TEXT_CHARS:,})"
        )
    return cleaned


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise MemoryRefused(f"unknown memory kind {kind!r} (one of: {', '.join(KINDS)})")
    return str(kind)


def check_id(memory_id: object) -> str:
    if not isinstance(memory_id, str) or not memory_id.strip():
        raise MemoryRefused("a memory id is needed; none was given")
    return memory_id.strip()


class MemoryUnavailable(RuntimeError):
    """Chroma failed moments ago: memory calls fail fast instead of waiting it out again."""


class FailFastCollection:
    """A Chroma collection that, once Chroma is down, stops calling it for a while.

    A frozen server costs CHROMA_TIMEOUT_S per call; without this every turn would pay it
    several times (recall, summaries). After a failure, calls raise `MemoryUnavailable`
    at once for `retry_after_s`, then Chroma is tried again.
    """

    def __init__(self, collection: Collection, retry_after_s: float = RETRY_CHROMA_AFTER_S):
        self._collection = collection
        self._retry_after_s = retry_after_s
        self._failed_at: float | None = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            failed_at = self._failed_at
            if failed_at is not None and time.monotonic() - failed_at < self._retry_after_s:
                ago = time.monotonic() - failed_at
                raise MemoryUnavailable(
                    f"Customer memory is unavailable (Chroma failed {ago:.0f} s ago)."
                )
            try:
                result = attribute(*args, **kwargs)
            except CHROMA_DOWN:
                self._failed_at = time.monotonic()
                raise
            self._failed_at = None
            return result

        return call


class MemoryStore:
    """Customer memories in one Chroma collection, always scoped by customer."""

    def __init__(self, collection: Collection, *, embedder: MiniLMEmbeddingFunction) -> None:
        self.collection = (
            collection
            if isinstance(collection, FailFastCollection)
            else FailFastCollection(collection)
        )
        self.embedder = embedder

    # --- writing ----------------------------------------------------------------------

    def add(
        self,
        customer_id: str,
        text: str,
        kind: str = "note",
        *,
        thread_id: str | None = None,
        memory_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Memory:
        """Remember `text` about one customer; a given `memory_id` is overwritten, not doubled."""
        memory = self._new(NewMemory(customer_id, text, kind, thread_id, memory_id, created_at))
        self._write([memory])
        return memory

    def add_many(
        self,
        items: Sequence[NewMemory],
        *,
        skip_existing: bool = True,
        progress: Progress | None = None,
    ) -> int:
        """Write many memories, embedded in batches; returns how many were written.

        With `skip_existing`, items whose id is already stored are left alone (a second
        seeding run embeds nothing).
        """
        memories = [self._new(item) for item in items]
        if skip_existing:
            stored = self._existing_ids([m.id for m in memories])
            memories = [m for m in memories if m.id not in stored]
        total = len(memories)
        if progress:
            progress(0, total)
        step = max(self.embedder.batch_size * 8, 256)
        for start in range(0, total, step):
            self._write(memories[start : start + step])
            if progress:
                progress(min(start + step, total), total)
        return total

    def update(self, memory_id: str, text: str) -> Memory:
        """Replace one memory's text (re-embedded); its customer, kind and origin stay."""
        current = self.get(memory_id)
        if current is None:
            raise MemoryRefused(f"there is no memory {memory_id!r}")
        updated = replace(current, text=check_text(text))
        self._write([updated])
        return updated

    def delete(self, memory_id: str, *, customer_id: str | None = None) -> bool:
        """Forget one memory; with `customer_id`, only if it is that customer's. True if gone."""
        memory_id = check_id(memory_id)
        current = self.get(memory_id)
        if current is None:
            return False
        if customer_id is not None and current.customer_id != check_customer_id(customer_id):
            raise MemoryRefused(f"memory {memory_id!r} belongs to another customer")
        self.collection.delete(ids=[memory_id], where={"customer_id": current.customer_id})
        return True

    def delete_all(self, customer_id: str) -> int:
        """Forget every memory of one customer (and no one else's); returns how many."""
        customer_id = check_customer_id(customer_id)
        where = {"customer_id": customer_id}
        removed = 0
        while True:
            ids = self.collection.get(where=where, include=[], limit=PAGE)["ids"]
            if not ids:
                return removed
            # Ids and the customer filter together: a bug upstream can never widen this.
            self.collection.delete(ids=ids, where=where)
            removed += len(ids)

    # --- reading ----------------------------------------------------------------------

    def get(self, memory_id: str) -> Memory | None:
        memory_id = check_id(memory_id)
        page = self.collection.get(ids=[memory_id], include=["documents", "metadatas"])
        memories = list(_from_page(page))
        return memories[0] if memories else None

    def list(
        self,
        customer_id: str,
        *,
        kind: str | Sequence[str] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Memory]:
        """One customer's memories, newest first (optionally of some kinds, at most `limit`)."""
        customer_id, where = self._where(customer_id, kind)
        memories: builtins.list[Memory] = []
        offset = 0
        while True:
            page = self.collection.get(
                where=where, include=["documents", "metadatas"], limit=PAGE, offset=offset
            )
            memories.extend(_from_page(page, expected=customer_id))
            if len(page["ids"]) < PAGE:
                break
            offset += PAGE
        memories.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return memories[:limit] if limit is not None else memories

    def search(
        self, customer_id: str, query: str, k: int = 5, *, kind: str | None = None
    ) -> builtins.list[Memory]:
        """One customer's `k` memories most relevant to `query`, best first, with a score."""
        customer_id, where = self._where(customer_id, kind)
        k = max(1, min(int(k), 100))
        query = re.sub(r"\s+", " ", query or "").strip()[:MAX_TEXT_CHARS]
        if not query:
            return []
        vector = self.embedder.embed_one(query)
        found = self.collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        page = {key: (found.get(key) or [[]])[0] for key in ("ids", "documents", "metadatas")}
        scores = [1.0 - float(d) for d in (found.get("distances") or [[]])[0]]
        memories = _from_page(page, expected=customer_id)
        return [replace(m, score=round(s, 4)) for m, s in zip(memories, scores, strict=False)]

    def recall(self, customer_id: str, query: str, k: int = 5) -> builtins.list[Memory]:
        """What to show the model for a turn: stated preferences and notes, then the `k`
        memories most relevant to the message (the `k` newest when there is no message)."""
        stated = self.list(customer_id, kind=("preference", "note"), limit=k)
        if query.strip():
            relevant = self.search(customer_id, query, k=k)
        else:
            relevant = self.list(customer_id, limit=k)
        seen = {memory.id for memory in stated}
        return stated + [memory for memory in relevant if memory.id not in seen]

    def count(self, customer_id: str | None = None) -> int:
        """How many memories one customer has (all customers' when none is given)."""
        if customer_id is None:
            return self.collection.count()
        _, where = self._where(customer_id, None)
        return len(self.collection.get(where=where, include=[])["ids"])

    # --- plumbing ---------------------------------------------------------------------

    def _where(
        self, customer_id: str, kind: str | Sequence[str] | None
    ) -> tuple[str, dict[str, Any]]:
        """(canonical customer id, the Chroma filter): every read goes through this."""
        customer_id = check_customer_id(customer_id)
        scope: dict[str, Any] = {"customer_id": customer_id}
        if kind is None:
            return customer_id, scope
        kinds = [check_kind(kind)] if isinstance(kind, str) else [check_kind(k) for k in kind]
        return customer_id, {"$and": [scope, {"kind": {"$in": kinds}}]}

    def _new(self, item: NewMemory) -> Memory:
        return Memory(
            id=check_id(item.id) if item.id is not None else f"mem-{uuid.uuid4().hex}",
            customer_id=check_customer_id(item.customer_id),
            text=check_text(item.text),
            kind=check_kind(item.kind),
            created_at=_utc(item.created_at or datetime.now(UTC)),
            thread_id=item.thread_id or None,
        )

    def _write(self, memories: Sequence[Memory]) -> None:
        if not memories:
            return
        self.collection.upsert(
            ids=[m.id for m in memories],
            embeddings=self.embedder.embed([embedding_text(m) for m in memories]),
            documents=[m.text for m in memories],
            metadatas=[_metadata(m) for m in memories],
        )

    def _existing_ids(self, ids: Sequence[str]) -> set[str]:
        stored: set[str] = set()
        for start in range(0, len(ids), PAGE):
            chunk = builtins.list(ids[start : start + PAGE])
            stored.update(self.collection.get(ids=chunk, include=[])["ids"])
        return stored


def embedding_text(memory: Memory) -> str:
    """What is embedded for a memory: an order summary without its figures.

    Numbers, dates and money say nothing to a sentence embedder but are most of an order
    summary's tokens (40 per summary on average, 17 without), and embedding time grows
    with tokens; what a summary is about is its products. Other kinds embed as written.
    """
    if memory.kind != "order_summary":
        return memory.text
    words = re.sub(r"[$€£]?\d[\d,./:-]*|×", " ", memory.text)
    return re.sub(r"\s+", " ", re.sub(r"\s+([,;:])", r"\1", words)).strip()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _metadata(memory: Memory) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "customer_id": memory.customer_id,
        "kind": memory.kind,
        "created_at": memory.created_at.isoformat(timespec="microseconds"),
    }
    if memory.thread_id:
        metadata["thread_id"] = memory.thread_id
    return metadata


def _from_page(page: Any, *, expected: str | None = None) -> Iterator[Memory]:
    metadatas = page.get("metadatas") or []
    documents = page.get("documents") or []
    for memory_id, document, metadata in zip(page["ids"], documents, metadatas, strict=False):
        metadata = metadata or {}
        if expected is not None and metadata.get("customer_id") != expected:
            # The where filter makes this impossible; if Chroma ever disagrees, never leak.
            log.error("memory %s is not %s's; withheld", memory_id, expected)
            continue
        yield Memory(
            id=memory_id,
            customer_id=str(metadata.get("customer_id", "")),
            text=document or "",
            kind=str(metadata.get("kind", "note")),
            created_at=datetime.fromisoformat(str(metadata.get("created_at"))),
            thread_id=metadata.get("thread_id") or None,
        )


def get_memories_collection(
    client: ClientAPI,
    *,
    embedder: MiniLMEmbeddingFunction,
    name: str = MEMORY_COLLECTION,
) -> Collection:
    """The memories collection (created on first use): the catalog's embedder, cosine space."""
    return client.get_or_create_collection(
        name,
        embedding_function=embedder,  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}},
    )


def open_memory_store(
    client: ClientAPI,
    *,
    embedder: MiniLMEmbeddingFunction,
    name: str = MEMORY_COLLECTION,
) -> MemoryStore:
    """The store on `client`'s memories collection (created on first use)."""
    collection = get_memories_collection(client, embedder=embedder, name=name)
    return MemoryStore(collection, embedder=embedder)


def private_memory_store(settings: Settings, *, embedder: MiniLMEmbeddingFunction) -> MemoryStore:
    """An empty store of its own, in memory (for a desk on a private store, a benchmark)."""
    from rag.chroma import create_chroma_client

    client = create_chroma_client(settings, ephemeral=True)
    return open_memory_store(client, embedder=embedder, name=f"memories_{uuid.uuid4().hex}")

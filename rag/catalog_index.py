"""Catalog index: keeps the Chroma `catalog` collection in step with the products in SQL.

Each product becomes one record (id = product id) whose document is its name, category
and pack size, embedded with all-MiniLM-L6-v2. Its metadata carries a content hash of
that document (and the model id), so `sync_catalog` embeds only products that are new
or changed and deletes records whose product is gone; an unchanged catalog is read,
compared and left alone. Progress goes to an optional callback (the CLI `python -m
rag.index` draws it with tqdm; the UI with st.progress).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine, select

from db.models import Product
from rag.embeddings import MODEL_ID, MiniLMEmbeddingFunction

log = logging.getLogger(__name__)

CATALOG_COLLECTION = "catalog"
PAGE = 5_000  # records read from / written to Chroma per call
T = TypeVar("T")
Progress = Callable[[int, int], None]  # (products embedded so far, products to embed)


@dataclass(frozen=True)
class CatalogDocument:
    """What the index stores for one product."""

    product_id: int
    name: str
    category: str
    text: str
    content_hash: str


@dataclass(frozen=True)
class SyncReport:
    """What one sync did, by product count."""

    added: int
    updated: int
    removed: int
    unchanged: int

    @property
    def embedded(self) -> int:
        return self.added + self.updated


def document_text(
    name: str, category: str, quantity_per_unit: str | None, description: str | None = None
) -> str:
    """The text embedded for a product: name, what it is, then category and pack size."""
    pack = f"; {quantity_per_unit}" if quantity_per_unit else ""
    what = f": {description}" if description else ""
    return f"{name}{what} ({category}{pack})"


def content_hash(text: str) -> str:
    return hashlib.sha1(f"{MODEL_ID}\n{text}".encode()).hexdigest()


def read_catalog(*, engine: Engine) -> list[CatalogDocument]:
    """Every product in SQL as the document the index should hold (read-only)."""
    query = select(
        Product.product_id,
        Product.name,
        Product.category,
        Product.quantity_per_unit,
        Product.description,
    ).order_by(Product.product_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    documents = []
    for product_id, name, category, pack, description in rows:
        text = document_text(name, category, pack, description)
        documents.append(CatalogDocument(product_id, name, category, text, content_hash(text)))
    return documents


def get_catalog_collection(
    client: ClientAPI,
    *,
    embedder: MiniLMEmbeddingFunction,
    name: str = CATALOG_COLLECTION,
) -> Collection:
    """The catalog collection (created on first use) with the registered embedder, cosine space."""
    return client.get_or_create_collection(
        name,
        embedding_function=embedder,  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}},
    )


def indexed_hashes(collection: Collection) -> dict[str, str]:
    """Record id → content hash of every record in the collection, read page by page."""
    hashes: dict[str, str] = {}
    offset = 0
    while True:
        page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        for record_id, metadata in zip(page["ids"], page["metadatas"] or [], strict=True):
            hashes[record_id] = str((metadata or {}).get("hash", ""))
        if len(page["ids"]) < PAGE:
            return hashes
        offset += PAGE


def sync_catalog(
    *,
    engine: Engine,
    collection: Collection,
    embedder: MiniLMEmbeddingFunction,
    progress: Progress | None = None,
) -> SyncReport:
    """Bring `collection` in line with SQL: embed new/changed products, drop deleted ones."""
    documents = read_catalog(engine=engine)
    indexed = indexed_hashes(collection)
    wanted = {str(doc.product_id) for doc in documents}
    stale = [doc for doc in documents if indexed.get(str(doc.product_id)) != doc.content_hash]
    removed = [record_id for record_id in indexed if record_id not in wanted]
    for chunk in _chunks(removed, PAGE):
        collection.delete(ids=list(chunk))
    _embed_and_store(collection, stale, embedder, progress)
    added = sum(1 for doc in stale if str(doc.product_id) not in indexed)
    report = SyncReport(
        added=added,
        updated=len(stale) - added,
        removed=len(removed),
        unchanged=len(documents) - len(stale),
    )
    log.info("catalog index synced: %s", report)
    return report


def _embed_and_store(
    collection: Collection,
    documents: Sequence[CatalogDocument],
    embedder: MiniLMEmbeddingFunction,
    progress: Progress | None,
) -> None:
    total = len(documents)
    if progress:
        progress(0, total)
    done = 0
    step = max(embedder.batch_size * 8, 256)
    for chunk in _chunks(documents, step):
        vectors = embedder.embed([doc.text for doc in chunk])
        collection.upsert(
            ids=[str(doc.product_id) for doc in chunk],
            embeddings=vectors,
            documents=[doc.text for doc in chunk],
            metadatas=[
                {"hash": doc.content_hash, "name": doc.name, "category": doc.category}
                for doc in chunk
            ],
        )
        done += len(chunk)
        if progress:
            progress(done, total)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

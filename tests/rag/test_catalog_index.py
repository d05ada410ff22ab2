"""Incremental sync: only new or changed products are embedded; deleted ones leave the index."""

from __future__ import annotations

from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine, delete, update

from db.models import Order, OrderLine, Product
from db.seed import seed
from rag.catalog_index import document_text, indexed_hashes, sync_catalog
from rag.embeddings import MiniLMEmbeddingFunction
from rag.search import CatalogSearch


def _sync(engine: Engine, collection: Collection, embedder: MiniLMEmbeddingFunction):  # noqa: ANN202
    calls: list[tuple[int, int]] = []
    report = sync_catalog(
        engine=engine,
        collection=collection,
        embedder=embedder,
        progress=lambda done, total: calls.append((done, total)),
    )
    return report, calls


def test_first_sync_embeds_every_product_with_progress(
    engine: Engine, collection: Collection, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine, catalog="northwind")
    report, calls = _sync(engine, collection, embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (77, 0, 0, 0)
    assert collection.count() == 77
    assert calls[0] == (0, 77) and calls[-1] == (77, 77)
    record = collection.get(ids=["55"], include=["documents", "metadatas"])
    assert record["documents"] == [
        document_text("Pâté chinois", "Meat/Poultry", "24 boxes x 2 pies", "Quebec shepherd's pie")
    ]
    assert record["metadatas"][0]["name"] == "Pâté chinois"


def test_unchanged_catalog_embeds_nothing(
    engine: Engine, collection: Collection, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine, catalog="northwind")
    _sync(engine, collection, embedder)
    before = indexed_hashes(collection)
    report, calls = _sync(engine, collection, embedder)
    assert (report.embedded, report.removed, report.unchanged) == (0, 0, 77)
    assert calls == [(0, 0)]
    assert indexed_hashes(collection) == before


def test_renamed_product_is_the_only_one_re_embedded(
    engine: Engine, collection: Collection, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine, catalog="northwind")
    _sync(engine, collection, embedder)
    before = collection.get(ids=["14", "74"], include=["embeddings"])
    with engine.begin() as connection:
        connection.execute(
            update(Product).where(Product.product_id == 14).values(name="Silken Tofu Blocks")
        )
        # Stock and price are not part of the document: changing them re-embeds nothing.
        connection.execute(update(Product).where(Product.product_id == 74).values(units_in_stock=1))
    report, _ = _sync(engine, collection, embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 76)
    after = collection.get(ids=["14", "74"], include=["embeddings"])
    assert after["ids"] == before["ids"] == ["14", "74"]
    assert not (after["embeddings"][0] == before["embeddings"][0]).all()
    assert (after["embeddings"][1] == before["embeddings"][1]).all()
    found = collection.query(query_embeddings=[embedder.embed_one("silken tofu")], n_results=1)
    assert found["ids"] == [["14"]]


def test_deleted_product_is_gone_from_index_and_results(
    engine: Engine, collection: Collection, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine, catalog="northwind")
    _sync(engine, collection, embedder)
    search = CatalogSearch(engine=engine, collection=collection, embedder=embedder)
    assert search.search("mozzarella").best.product_id == 72  # type: ignore[union-attr]
    with engine.begin() as connection:
        order_ids = [
            row[0]
            for row in connection.execute(
                OrderLine.__table__.select()
                .with_only_columns(OrderLine.order_id)
                .where(OrderLine.product_id == 72)
            )
        ]
        connection.execute(delete(OrderLine).where(OrderLine.order_id.in_(order_ids)))
        connection.execute(delete(Order).where(Order.order_id.in_(order_ids)))
        connection.execute(delete(Product).where(Product.product_id == 72))
    # Even before the index or the search is refreshed, a deleted product is never offered.
    assert 72 not in [c.product_id for c in search.search("mozzarella").candidates]
    report, _ = _sync(engine, collection, embedder)
    assert (report.removed, report.embedded, report.unchanged) == (1, 0, 76)
    assert collection.get(ids=["72"])["ids"] == []
    search.refresh()
    result = search.search("mozzarella di giovanni")
    assert 72 not in [c.product_id for c in result.candidates]
    assert result.best is None

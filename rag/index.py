"""CLI: `python -m rag.index` syncs the Chroma catalog collection with the products in SQL.

Uses DATABASE_URL and CHROMA_PATH / CHROMA_HOST from Settings, draws progress with tqdm
and prints what changed (added, updated, removed, unchanged). Safe to run any time: an
unchanged catalog embeds nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from config import ConfigError, configure_logging, get_settings


@contextmanager
def tqdm_progress(*, unit: str, desc: str) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) progress callback drawn as a tqdm bar on the terminal."""
    with tqdm(total=0, unit=unit, desc=desc) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield progress


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        configure_logging(get_settings())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from db.engine import create_db_engine
    from rag.catalog_index import get_catalog_collection, sync_catalog
    from rag.chroma import chroma_location, create_chroma_client
    from rag.embeddings import create_embedder

    settings = get_settings()
    started = time.perf_counter()
    embedder = create_embedder(settings)
    try:
        collection = get_catalog_collection(create_chroma_client(settings), embedder=embedder)
    except Exception as error:  # noqa: BLE001 - a CLI reports, it does not trace back
        print(f"Chroma unavailable at {chroma_location(settings)}: {error}", file=sys.stderr)
        return 1
    engine = create_db_engine(settings)
    try:
        with tqdm_progress(unit="product", desc="embedding") as progress:
            report = sync_catalog(
                engine=engine, collection=collection, embedder=embedder, progress=progress
            )
    finally:
        engine.dispose()
    print(
        f"Catalog index: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

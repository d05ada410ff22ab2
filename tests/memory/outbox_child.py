"""One claimer process for tests/memory/test_outbox.py: `python -m tests.memory.outbox_child URL`.

Loads the embedder and an in-memory Chroma of its own, prints "ready", waits for a line
on stdin, then delivers the outbox of the database at URL two rows at a time until none
is pending, and prints the memory ids it wrote as one JSON list.
"""

from __future__ import annotations

import json
import sys
import uuid

from config import load_settings
from db.engine import create_db_engine
from memory.outbox import OutboxRelay, pending_count
from memory.store import open_memory_store
from rag.chroma import create_chroma_client
from rag.embeddings import create_embedder
from tests.memory.test_outbox import RecordingStore


def main(url: str) -> None:
    settings = load_settings(database_url=url)
    engine = create_db_engine(settings)
    client = create_chroma_client(settings, ephemeral=True)
    embedder = create_embedder(settings)
    store = open_memory_store(client, embedder=embedder, name=f"memories_{uuid.uuid4().hex}")
    store.embedder.embed(["warm-up"])
    recording = RecordingStore(store)
    relay = OutboxRelay(engine, recording)
    print("ready", flush=True)
    sys.stdin.readline()
    while pending_count(engine):
        relay.deliver_due(limit=2)
    print(json.dumps(recording.written), flush=True)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])

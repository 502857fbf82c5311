"""Weights and model parameters of the matcher, as data with defaults that configuration can override."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_WEIGHTS: dict[str, float] = {
    # Catalogue fields decide first: P(the record's IPC subclass / discipline / chain is the query's).
    "ipc": 1.0,
    "discipline": 1.0,
    "chain": 0.5,
    # Words order records within a field: BM25 scaled to [0, 1] by the best candidate.
    "lexical": 0.15,
    # Optional dense encoder (cosine similarity); inert unless an encoder is configured.
    "dense": 0.3,
    # Small structured preferences that break near-ties in the product.
    "zone": 0.05,
    "maturity": 0.05,
    "availability": 0.05,
    "capacity": 0.05,
}


@dataclass(frozen=True)
class MatchConfig:
    """Everything that shapes a ranking.

    Parameters
    ----------
    prf_docs: lexical hits whose labels vote on the query's field (pseudo-relevance feedback).
    nb_share: share of the naive Bayes prediction in the query's label distribution; the rest is feedback.
    mu: Dirichlet smoothing mass of the naive Bayes term model (in tokens).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    k1: float = 1.5
    b: float = 0.75
    prf_docs: int = 10
    nb_share: float = 0.3
    mu: float = 1000.0
    min_reason_share: float = 0.05

    @classmethod
    def with_weights(cls, overrides: Mapping[str, float]) -> MatchConfig:
        unknown = set(overrides) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown match weights {sorted(unknown)}; choose from {sorted(DEFAULT_WEIGHTS)}"
            )
        return cls(weights={**DEFAULT_WEIGHTS, **overrides})

"""Weights and model parameters of the matcher, as data with defaults that configuration can override.

Every default was chosen on the dev folders of ``shared/data/bench`` only
(``benchmarks/bench_match_quality.py`` prints the table; docs/matching.md explains each choice).
Specific evidence decides: words shared with the demand and the semantic similarity of the two texts.
Catalogue fields (IPC subclass, discipline, chain) are a bounded prior that orders records with similar
evidence, never the first key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

DEFAULT_WEIGHTS: dict[str, float] = {
    # Specific evidence: BM25 scaled per query (see MatchEngine._lexical_signal) and, when an encoder is
    # configured, the cosine of the two texts' embeddings above ``dense_floor``, rescaled to [0, 1].
    "lexical": 1.0,
    "dense": 1.0,
    # Bounded field prior: P(record's label | demand), summed over the record's labels (at most 1 each).
    "ipc": 0.3,
    "discipline": 0.2,
    "chain": 0.1,
    # Product preferences: tie-breaks only, too small to lift a record without evidence.
    "zone": 0.02,
    "maturity": 0.02,
    "availability": 0.02,
    "capacity": 0.02,
}

EVIDENCE_SIGNALS = ("lexical", "dense")
"""Signals that say the record shares the demand's specific problem; a match needs at least one."""

TOP_BAND = 0.8
"""Where the top band of 匹配度 starts: the graded demands put few results above it."""


def top_of_band(relevant: int, results: int) -> float:
    """The highest P the graded results above ``TOP_BAND`` support: Laplace's rule of succession,
    (relevant + 1) / (results + 2), kept a little above the band's edge so the order survives; with no
    result there, the logistic is left as it is (1.0)."""
    if results == 0:
        return 1.0
    return min(max((relevant + 1) / (results + 2), TOP_BAND + 0.01), 1.0)


def compress_top(probability: np.ndarray, top: float) -> np.ndarray:
    """P above ``TOP_BAND`` mapped linearly onto [TOP_BAND, top]: a higher P stays higher, and no record
    claims more than the few graded results up there support."""
    probability = np.asarray(probability, np.float64)
    squeezed = TOP_BAND + (probability - TOP_BAND) * (top - TOP_BAND) / (1.0 - TOP_BAND)
    return np.where(probability > TOP_BAND, squeezed, probability)


@dataclass(frozen=True)
class MatchConfig:
    """Everything that shapes a ranking.

    Parameters
    ----------
    k1, b: BM25 parameters (bm25s defaults; other values were worse on every dev folder).
    prf_docs: lexical hits whose labels vote on the query's field (pseudo-relevance feedback).
    nb_share: share of the naive Bayes prediction in the query's label distribution; the rest is feedback.
    mu: Dirichlet smoothing mass of the naive Bayes term model (in tokens).
    dense_floor: cosine below which two texts share nothing (unrelated Chinese sentences sit near 0.5 with
        the packaged encoder); the signal is (cosine - floor) / (1 - floor), clipped at 0.
    calibration: the logistic turning the fused score s into P(a reader judges the record relevant),
        1 / (1 + e^-(a·s + b)), whose a and b depend on how much the demand says: a = a0 + a1·ln w,
        b = b0 + b1·ln w, w = the words the query says (``QueryWords.said``) held inside
        ``calibration_span``, the range of the demands it was fitted on. (a0, a1, b0, b1) with an encoder
        and without, fitted on demand-knownitem-dev by ``techbridge eval calibrate`` (docs/matching.md).
    calibration_top: P above 0.8 is mapped linearly onto [0.8, top], with an encoder and without: the
        graded demands put few results there (with the encoder 7, all judged relevant: (7 + 1) / (7 + 2) =
        0.89 by Laplace's rule of succession, not the 0.99 the logistic reaches beyond them; without it one).
        Order is kept.
    min_match: the probability below which a record is not shown as a match (匹配度 = 100 × probability).
    min_reason_share: a signal is named as a reason only if it gave at least this share of the score.
    unseen_weight: how much a demand word that no record holds weighs in the query's own weight, as a share
        of the idf of a word in no record (see MatchEngine._lexical_signal).
    expansion_weight: the count a thesaurus word related to a query term gets in the query (the query's
        own words count their occurrences); 0 turns expansion off (text/thesaurus.py).
    need_weight: what a word of a demand's need clause (需要…, 希望…, text/needs.py) counts in the query on
        top of its occurrences; 0 reads the demand as plain text.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    k1: float = 1.5
    b: float = 0.75
    prf_docs: int = 10
    nb_share: float = 0.3
    mu: float = 1000.0
    dense_floor: float = 0.5
    calibration_dense: tuple[float, float, float, float] = (0.368, 3.861, -4.85, -2.602)
    calibration_lexical: tuple[float, float, float, float] = (3.774, 3.239, -6.384, -0.334)
    calibration_span: tuple[float, float] = (4.0, 60.0)
    calibration_top: tuple[float, float] = (0.889, 0.81)
    min_match: float = 0.3
    min_reason_share: float = 0.1
    unseen_weight: float = 1.0
    expansion_weight: float = 0.6
    need_weight: float = 0.5

    @classmethod
    def with_weights(cls, overrides: Mapping[str, float]) -> MatchConfig:
        return cls().replace(weights=overrides)

    def replace(self, *, weights: Mapping[str, float] | None = None, **params: Any) -> MatchConfig:
        """A copy with some weights and parameters changed; unknown names are an error, not a silent no-op."""
        unknown = set(weights or {}) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown match weights {sorted(unknown)}; choose from {sorted(DEFAULT_WEIGHTS)}"
            )
        names = {f.name for f in fields(self)} - {"weights"}
        if set(params) - names:
            raise ValueError(
                f"unknown match parameters {sorted(set(params) - names)}; choose from {sorted(names)}"
            )
        for name, value in params.items():
            default = getattr(self, name)
            if isinstance(default, tuple):
                params[name] = tuple(float(v) for v in value)
                if len(params[name]) != len(default):
                    raise ValueError(f"match parameter {name} takes {len(default)} numbers")
            else:
                params[name] = type(default)(value)
        return replace(self, weights={**self.weights, **(weights or {})}, **params)

    def __post_init__(self) -> None:
        if not all(TOP_BAND < top <= 1.0 for top in self.calibration_top):
            raise ValueError(f"match parameter calibration_top: each must lie in ({TOP_BAND}, 1]")

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: (dict(self.weights) if f.name == "weights" else getattr(self, f.name))
            for f in fields(self)
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MatchConfig:
        """Reads what ``to_json`` wrote; parameters an older index did not record, or recorded in an older
        shape (a calibration of two numbers), keep their defaults."""
        defaults = cls()
        params = {
            k: v
            for k, v in data.items()
            if k in {f.name for f in fields(cls)} - {"weights"}
            and not (isinstance(getattr(defaults, k), tuple) and len(v) != len(getattr(defaults, k)))
        }
        return cls().replace(weights=data.get("weights") or {}, **params)

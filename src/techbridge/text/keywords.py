"""Keyword extraction for explanations: the terms of a text that say most about it (tf × idf)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence


def extract_keywords(tokens: Sequence[str], *, idf: Callable[[str], float], top_k: int = 5) -> list[str]:
    """The ``top_k`` tokens by tf × idf; ties keep first-occurrence order so results are stable.

    >>> extract_keywords(["电池", "隔膜", "电池", "方法"], idf={"电池": 2.0, "隔膜": 3.0, "方法": 0.1}.get)
    ['电池', '隔膜', '方法']
    """
    counts = Counter(tokens)
    order = {tok: i for i, tok in reversed(list(enumerate(tokens)))}
    ranked = sorted(counts, key=lambda t: (-counts[t] * idf(t), order[t]))
    return ranked[:top_k]

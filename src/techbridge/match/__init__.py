"""Matching engine: lexical BM25, catalogue-label models, structured signals, fusion and reasons.

Depends only on ``techbridge.domain`` and ``techbridge.text``.
"""

from .config import DEFAULT_WEIGHTS, MatchConfig
from .documents import (
    LABEL_FIELDS,
    Kind,
    MatchDoc,
    from_achievement,
    from_demand,
    from_expert,
    from_instrument,
    from_pilot_platform,
)
from .engine import Match, MatchEngine
from .filters import Filters
from .reasons import Reason

__all__ = [
    "DEFAULT_WEIGHTS",
    "LABEL_FIELDS",
    "Filters",
    "Kind",
    "Match",
    "MatchConfig",
    "MatchDoc",
    "MatchEngine",
    "Reason",
    "from_achievement",
    "from_demand",
    "from_expert",
    "from_instrument",
    "from_pilot_platform",
]

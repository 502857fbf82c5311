"""Chinese text analysis: normalisation, segmentation with a learned term dictionary, keywords.

Depends on nothing else in the project, so ingest, match and search can all share it.
"""

from .dictionary import TermDictionary, learn_terms
from .keywords import DOMAIN_SINGLE_CHARS, WORK_WORDS, extract_keywords, readable_terms
from .needs import need_clauses
from .normalize import normalize
from .segment import Analyzer, load_stopwords

__all__ = [
    "DOMAIN_SINGLE_CHARS",
    "Analyzer",
    "TermDictionary",
    "WORK_WORDS",
    "extract_keywords",
    "learn_terms",
    "load_stopwords",
    "need_clauses",
    "normalize",
    "readable_terms",
]

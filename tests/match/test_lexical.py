"""The BM25 index: agrees with bm25s, and incremental updates give exactly the scores of a rebuild."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from techbridge.match import Kind, MatchEngine
from techbridge.match.lexical import LexicalIndex
from techbridge.text import Analyzer

from .catalogue import BATTERY, SOFTWARE, achievement, demand


def test_scores_agree_with_bm25s_reference() -> None:
    analyzer = Analyzer()
    corpus = [analyzer.tokenize(t) for t in BATTERY + SOFTWARE]
    index = LexicalIndex(k1=1.5, b=0.75)
    index.add(corpus, [[] for _ in corpus])
    reference = bm25s.BM25(k1=1.5, b=0.75)
    reference.index(
        bm25s.tokenization.Tokenized(ids=[index.term_ids(t, grow=False) for t in corpus], vocab=index.vocab),
        show_progress=False,
    )
    for query in ("锂电池隔膜", "数据存储软件", "电池数据"):
        tokens = analyzer.tokenize(query)
        ours, _ = index.scores(index.query_terms(tokens))
        expected = reference.get_scores(index.term_ids(tokens, grow=False))
        np.testing.assert_allclose(ours, expected, rtol=1e-5)
        assert ours.max() > 0


def _ranking(engine: MatchEngine, text: str) -> dict[str, float]:
    matches = engine.rank(
        demand(text), target_kind=Kind.ACHIEVEMENT, top_k=100, explain=False, include_weak=True
    )
    return {m.id: m.score for m in matches}


@pytest.mark.parametrize("compact", [False, True])
def test_incremental_add_remove_replace_equals_rebuild(catalogue, compact: bool) -> None:
    engine = MatchEngine.build(catalogue[:6])
    engine.upsert(catalogue[6:])  # add
    engine.remove(["achievement/h1", "achievement/unknown"])  # remove (unknown keys are ignored)
    changed = achievement("g0", "锂电池回收数据管理软件", labels={"ipc": ["G06F", "H01M"]})
    engine.upsert([changed])  # replace
    if compact:
        engine.compact()
    final = [d for d in catalogue if d.id not in ("h1", "g0")] + [changed]
    rebuilt = MatchEngine.build(final)
    assert len(engine) == len(rebuilt) == 9
    for query in ("锂电池隔膜", "数据存储软件", "电池数据", "云计算"):
        got, expected = _ranking(engine, query), _ranking(rebuilt, query)
        assert got.keys() == expected.keys()
        assert "h1" not in got
        for doc_id, score in expected.items():
            assert got[doc_id] == pytest.approx(score, rel=1e-5), (query, doc_id)


def test_many_small_updates_merge_segments_and_stay_exact(catalogue) -> None:
    engine = MatchEngine.build([])
    for doc in catalogue:  # one segment per record forces the segment merge policy to run
        engine.upsert([doc])
    assert len(engine.lexical._segments) <= 9
    rebuilt = MatchEngine.build(catalogue)
    assert _ranking(engine, "锂电池负极") == pytest.approx(_ranking(rebuilt, "锂电池负极"), rel=1e-5)


def test_small_updates_merge_without_rewriting_the_bulk_segment(catalogue) -> None:
    engine = MatchEngine.build(catalogue[:6])
    bulk = engine.lexical._segments[0]
    updates = catalogue[6:] + catalogue  # adds, then replacements (their old rows stay masked)
    for doc in updates:
        engine.upsert([doc])
    assert engine.lexical._segments[0] is bulk
    assert len(engine.lexical._segments) < 1 + len(updates)  # the tail was merged
    rebuilt = MatchEngine.build(catalogue)
    for query in ("锂电池负极", "数据存储软件"):
        assert _ranking(engine, query) == pytest.approx(_ranking(rebuilt, query), rel=1e-5)


def test_parallel_build_equals_serial_build(catalogue) -> None:
    serial = MatchEngine.build(catalogue)
    parallel = MatchEngine.build(catalogue, workers=2)
    assert parallel.keys == serial.keys
    assert _ranking(parallel, "锂电池数据") == pytest.approx(_ranking(serial, "锂电池数据"), rel=1e-6)

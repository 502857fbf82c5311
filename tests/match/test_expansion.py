"""Thesaurus expansion: a demand's term finds records that use a related word, says so, and asks no more
of the records that use the demand's own words."""

from __future__ import annotations

from techbridge.match import Kind, Match, MatchConfig, MatchEngine
from techbridge.match.phases import merge_statistics
from techbridge.text.thesaurus import Thesaurus

from .catalogue import achievement, demand

THESAURUS = Thesaurus.parse(
    [
        "term,related,relation",
        "功率半导体,IGBT|碳化硅|功率器件,下位",
        "退磁,失磁|消磁,同义",
        "检测,诊断|测试,同义",
    ],
    source="test",
)
DOCS = [
    achievement("igbt", "IGBT模块的封装结构"),
    achievement("fan", "服务器机箱散热风扇的安装结构"),
    achievement("sic", "碳化硅外延片的制备方法"),
    achievement("rotor", "永磁同步电机转子结构"),
    achievement("flux", "一种电机磁钢消磁程度的在线诊断装置"),
]
QUERY = demand("功率半导体模块的散热封装")


def _engine(weight: float) -> MatchEngine:
    return MatchEngine.build(DOCS, config=MatchConfig(expansion_weight=weight), thesaurus=THESAURUS)


def test_a_record_using_a_related_word_is_found_and_says_which() -> None:
    matches = _engine(0.5).rank(QUERY, target_kind=Kind.ACHIEVEMENT, top_k=5, include_weak=True)
    assert matches[0].id == "igbt"
    related = [r for r in matches[0].reasons if r.code == "related_terms"]
    assert [r.text for r in related] == ["记录使用需求用词的相关词: IGBT (功率半导体)"]
    assert set(related[0].terms) == {"IGBT", "功率半导体"}  # marked in the record and in the demand
    # 功率半导体 is covered by IGBT: it is not named as missing.
    missing = " ".join(r.text for r in matches[0].reasons if r.code == "missing_terms")
    assert "功率半导体" not in missing
    assert "sic" in [m.id for m in matches]


def test_without_expansion_a_related_word_is_no_evidence() -> None:
    def sic(weight: float) -> Match:
        ranked = _engine(weight).rank(QUERY, target_kind=Kind.ACHIEVEMENT, top_k=5, include_weak=True)
        return next(m for m in ranked if m.id == "sic")

    assert sic(0.0).signals["lexical"] == 0.0  # shares no word with the demand
    assert all(r.code != "related_terms" for r in sic(0.0).reasons)
    assert sic(0.5).signals["lexical"] > 0.0


def test_related_words_do_not_raise_what_the_query_asks_for() -> None:
    """The query's own weight (the lexical signal's denominator) counts its own words only, and a related
    word the index splits into fragments (功率器件 → 功率, 器件) is not added at all."""
    plain, expanded = _engine(0.0), _engine(0.5)
    words = expanded.query_words(QUERY)
    assert "igbt" in words.words and "碳化硅" in words.words
    assert "功率器件" not in words.words or "功率器件" in expanded.analyzer.tokenize("功率器件")

    def own_weight(engine: MatchEngine) -> float:
        query_words = engine.query_words(QUERY)
        stats = [engine.statistics(QUERY, query_words)]
        return merge_statistics(query_words, stats, engine.corpus(), engine.config).own

    assert own_weight(expanded) == own_weight(plain)


def test_a_failure_mode_finds_its_synonym() -> None:
    query = demand("驱动电机永磁体退磁检测")

    def flux(weight: float) -> tuple[int, Match]:
        ranked = _engine(weight).rank(query, target_kind=Kind.ACHIEVEMENT, top_k=5, include_weak=True)
        return next((i, m) for i, m in enumerate(ranked) if m.id == "flux")

    (before, _), (after, match) = flux(0.0), flux(1.0)
    assert after < before
    related = next(r for r in match.reasons if r.code == "related_terms")
    assert "消磁 (退磁)" in related.text and "诊断 (检测)" in related.text


def test_a_zone_s_own_words_expand_its_demands_only() -> None:
    """``zone_thesauri``: a zone's demands expand with its rows too; another zone's demand and a record
    of the zone (as a query) keep the shared thesaurus."""
    zone_words = Thesaurus.parse(["term,related,relation", "白酒,酒糟|酱香,下位"], source="wuxi")
    engine = MatchEngine.build(
        [*DOCS, achievement("lees", "酒糟烘干装置")], config=MatchConfig(expansion_weight=0.6)
    )
    engine.zone_thesauri = {"wuxi": engine.thesaurus.extended(zone_words)}

    def related(query) -> list[str]:
        ranked = engine.rank(query, target_kind=Kind.ACHIEVEMENT, top_k=5, include_weak=True)
        return [r.text for m in ranked for r in m.reasons if r.code == "related_terms"]

    assert related(demand("白酒烘干", zone_code="wuxi")) == ["记录使用需求用词的相关词: 酒糟 (白酒)"]
    assert related(demand("白酒烘干", zone_code="chengdu")) == []
    assert "酒糟" not in engine.query_words(achievement("q", "白酒烘干", zone_code="wuxi")).words
    # The shared thesaurus still applies to the zone's demands.
    assert "igbt" in engine.query_words(demand("功率半导体封装", zone_code="wuxi")).words

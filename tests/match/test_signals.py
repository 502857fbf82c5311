"""Each signal on a hand-made case whose correct order is plain, with the reasons it must give."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from techbridge.domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform
from techbridge.match import (
    Filters,
    Kind,
    Match,
    MatchConfig,
    MatchDoc,
    MatchEngine,
    from_achievement,
    from_demand,
    from_expert,
    from_instrument,
    from_pilot_platform,
)
from techbridge.match.documents import LABEL_FIELDS
from techbridge.text import Analyzer

from .catalogue import achievement, demand


def _order(engine: MatchEngine, query: MatchDoc, kind: Kind = Kind.ACHIEVEMENT, **kwargs) -> list[str]:
    return [m.id for m in engine.rank(query, target_kind=kind, top_k=20, include_weak=True, **kwargs)]


def _said(match: Match) -> set[tuple[str, str]]:
    """(code, text) of each reason: what a reader sees."""
    return {(r.code, r.text) for r in match.reasons}


def test_predicted_ipc_lifts_the_right_field_over_a_word_coincidence(catalogue) -> None:
    # "涂层" appears only in the software record, but a separator coating is a battery matter.
    docs = [
        *catalogue,
        achievement("x-soft", "涂层厚度测量数据的软件处理方法", labels={"ipc": ["G06F"]}),
        achievement("x-batt", "一种隔膜涂覆层及锂电池", labels={"ipc": ["H01M"]}),
    ]
    engine = MatchEngine.build(docs)
    query = demand("锂电池隔膜涂层工艺改进")
    order = _order(engine, query)
    assert order[0] == "x-batt"
    assert order.index("x-soft") > 1
    top = engine.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT, top_k=1)[0]
    label_reason = next(r for r in top.reasons if r.code == "ipc")
    assert label_reason.text.startswith("预测所属IPC 分类 H01M (")
    # Without the label weight the word coincidence is all that is left to rank by.
    words_only = MatchEngine.build(docs, config=MatchConfig.with_weights({"ipc": 0.0}))
    assert (
        words_only.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT, top_k=1)[0].signals.get(
            "ipc", 0.0
        )
        == 0.0
    )
    assert all(
        m.signals["zone"] == 0.0 for m in engine.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT)
    )  # no zone given


def test_label_model_predicts_the_field_of_a_query_with_no_codes(catalogue) -> None:
    engine = MatchEngine.build(catalogue)
    field = engine.fields["ipc"]
    for text, expected in (("高能量密度锂电池正极", "H01M"), ("区块链数据存储软件", "G06F")):
        terms = engine.lexical.query_terms(Analyzer().tokenize(text))
        _, stats = engine.lexical.scores(terms)
        dist = field.predict(terms, stats=stats, total_len=engine.lexical.total_len, mu=engine.config.mu)
        assert field.labels[int(np.argmax(dist))] == expected
        assert dist.sum() == 1.0 or abs(dist.sum() - 1.0) < 1e-9


def test_explicit_ipc_overlap_beats_other_subclass() -> None:
    docs = [
        achievement("a", "电极材料", labels={"ipc": ["H01M"]}),
        achievement("b", "电极材料", labels={"ipc": ["C25B"]}),
    ]
    engine = MatchEngine.build(docs)
    query = achievement("q", "一种电极材料", labels={"ipc": ["H01M"]})
    matches = engine.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT, top_k=2)
    assert [m.id for m in matches] == ["a", "b"]
    assert any(r.code == "ipc" and r.text == "IPC 分类相同: H01M" for r in matches[0].reasons)
    assert not any(r.code == "ipc" for r in matches[1].reasons)


def test_shared_industry_chain_ranks_first_with_reason() -> None:
    platforms = [
        MatchDoc(
            kind=Kind.PILOT_PLATFORM, id="bio", title="中试基地 工艺放大验证", labels={"chain": ["生物医药"]}
        ),
        MatchDoc(
            kind=Kind.PILOT_PLATFORM, id="ev", title="中试基地 工艺放大验证", labels={"chain": ["新能源汽车"]}
        ),
    ]
    engine = MatchEngine.build(platforms)
    query = demand("电驱系统工艺放大验证", labels={"chain": ["新能源汽车"]})
    matches = engine.rank(query, include_weak=True, target_kind=Kind.PILOT_PLATFORM)
    assert [m.id for m in matches] == ["ev", "bio"]
    assert ("chain", "产业链相同: 新能源汽车") in _said(matches[0])


def test_same_zone_first_and_cross_zone_shared_said_so() -> None:
    docs = [
        achievement("far", "石墨烯导热膜", zone_code="chengdu", is_shared=True),
        achievement("near", "石墨烯导热膜", zone_code="wuxi"),
    ]
    engine = MatchEngine.build(docs)
    matches = engine.rank(
        demand("石墨烯导热膜", zone_code="wuxi"), include_weak=True, target_kind=Kind.ACHIEVEMENT
    )
    assert [m.id for m in matches] == ["near", "far"]
    assert ("zone", "本园区资源") in _said(matches[0])
    assert ("zone", "跨园区共享资源 (来自 chengdu)") in _said(matches[1])


def test_higher_maturity_first() -> None:
    engine = MatchEngine.build(
        [achievement("lab", "激光焊接工艺", trl=3), achievement("plant", "激光焊接工艺", trl=8)]
    )
    matches = engine.rank(demand("激光焊接"), include_weak=True, target_kind=Kind.ACHIEVEMENT)
    assert [m.id for m in matches] == ["plant", "lab"]
    assert ("maturity", "技术成熟度 TRL 8") in _said(matches[0])


def test_bookable_instrument_first() -> None:
    engine = MatchEngine.build(
        [
            MatchDoc(kind=Kind.INSTRUMENT, id="busy", title="扫描电子显微镜", is_available=False),
            MatchDoc(kind=Kind.INSTRUMENT, id="free", title="扫描电子显微镜"),
        ]
    )
    matches = engine.rank(
        demand("材料断口扫描电子显微镜分析"), include_weak=True, target_kind=Kind.INSTRUMENT
    )
    assert [m.id for m in matches] == ["free", "busy"]
    assert ("availability", "仪器可预约") in _said(matches[0])
    assert not any(r.code == "availability" for r in matches[1].reasons)


def test_expert_with_free_slots_first() -> None:
    def expert(name: str) -> Expert:
        return Expert(
            name=name,
            zone_code="wuxi",
            fields=["材料科学与工程"],
            bio="研究方向: 高分子复合材料",
            max_active_deals=5,
        )

    engine = MatchEngine.build(
        [
            from_expert(expert("张忙碌"), record_id="busy", active_deals=4),
            from_expert(expert("李空闲"), record_id="free"),
        ]
    )
    matches = engine.rank(demand("高分子复合材料改性"), include_weak=True, target_kind=Kind.EXPERT)
    assert [m.id for m in matches] == ["free", "busy"]
    assert ("capacity", "专家尚余 100% 对接名额") in _said(matches[0])
    assert ("capacity", "专家尚余 20% 对接名额") in _said(matches[1])


def test_filters_zone_isolation_chain_date_and_price() -> None:
    docs = [
        achievement("own", "储能电池", zone_code="wuxi", price=50.0, labels={"chain": ["新能源"]}),
        achievement("shared", "储能电池", zone_code="chengdu", is_shared=True, price=500.0),
        achievement("private", "储能电池", zone_code="chengdu"),
        MatchDoc(kind=Kind.DEMAND, id="d-old", title="储能电池", zone_code="wuxi", date=date(2020, 1, 1)),
        MatchDoc(kind=Kind.DEMAND, id="d-new", title="储能电池", zone_code="wuxi", date=date(2026, 6, 1)),
    ]
    engine = MatchEngine.build(docs)
    query = demand("储能电池", zone_code="wuxi", price=100.0)
    assert set(_order(engine, query, filters=Filters(zone="wuxi"))) == {"own", "shared"}
    assert _order(engine, query, filters=Filters(zone="wuxi", max_price=100.0)) == ["own"]
    assert _order(engine, query, filters=Filters(chains=("新能源",))) == ["own"]
    recent = Filters(date_from=date(2025, 1, 1))
    assert _order(engine, achievement("a", "储能电池"), Kind.DEMAND, filters=recent) == ["d-new"]
    within = next(
        m for m in engine.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT) if m.id == "own"
    )
    assert ("price", "报价 50 在预算 100 以内") in _said(within)


def test_reasons_are_truthful(catalogue) -> None:
    engine = MatchEngine.build(catalogue)
    analyzer = Analyzer()
    query = demand("固态锂电池负极材料", text="要求提高电解液稳定性")
    query_terms = set(analyzer.tokenize(query.analysed_text()))
    docs = {d.id: d for d in catalogue}
    for match in engine.rank(query, include_weak=True, target_kind=Kind.ACHIEVEMENT, top_k=5):
        doc = docs[match.id]
        assert match.reasons, match.id
        fused = sum(match.signals.values())
        assert match.score == pytest.approx(
            float(
                engine.calibrated(np.array([fused]), dense=False, words_said=engine.query_words(query).said)[
                    0
                ]
            ),
            abs=1e-4,
        )
        for reason in match.reasons:
            if reason.code in ("title_terms", "terms"):
                shown = reason.text.split(": ", 1)[1].split("、")
                assert list(reason.terms) == shown
                where = doc.title if reason.code == "title_terms" else doc.analysed_text()
                assert set(shown) <= query_terms & set(analyzer.tokenize(where)), reason
            if reason.code in LABEL_FIELDS:
                assert any(label in reason.text for label in doc.labels[reason.code])
                assert match.signals[reason.code] > 0
        if match.signals["lexical"] > 0:
            assert {r.code for r in match.reasons} & {"title_terms", "terms"}


def test_every_pair_the_product_needs_is_ranked() -> None:
    zone = {"zone_code": "wuxi", "visibility": "shared"}
    achievement_doc = from_achievement(
        Achievement(
            title="一种钠离子电池正极材料", abstract="层状氧化物正极", ipc_codes=["H01M 4/36"], **zone
        )
    )
    demand_doc = from_demand(
        Demand(
            title="钠离子电池正极材料量产",
            description="需要层状氧化物正极中试",
            organization="无锡某储能公司",
            industry_chain="新能源",
            **zone,
        )
    )
    expert_doc = from_expert(
        Expert(name="王教授", fields=["材料科学与工程"], bio="钠离子电池正极材料", **zone)
    )
    instrument_doc = from_instrument(
        Instrument(name="X射线衍射仪", description="电池正极材料晶体结构表征", **zone)
    )
    platform_doc = from_pilot_platform(
        PilotPlatform(
            name="储能材料中试平台", industry_chains=["新能源"], capabilities="正极材料公斤级中试", **zone
        )
    )
    engine = MatchEngine.build([achievement_doc, demand_doc, expert_doc, instrument_doc, platform_doc])
    pairs = [
        (demand_doc, Kind.ACHIEVEMENT, achievement_doc),
        (demand_doc, Kind.EXPERT, expert_doc),
        (demand_doc, Kind.INSTRUMENT, instrument_doc),
        (demand_doc, Kind.PILOT_PLATFORM, platform_doc),
        (achievement_doc, Kind.DEMAND, demand_doc),
        (expert_doc, Kind.DEMAND, demand_doc),
    ]
    for query, kind, expected in pairs:
        matches = engine.rank(query, include_weak=True, target_kind=kind, top_k=5)
        assert [m.id for m in matches] == [expected.id], (query.kind, kind)
        assert matches[0].kind == kind
        assert any(r.code in ("title_terms", "terms") for r in matches[0].reasons)
    platform_match = engine.rank(demand_doc, include_weak=True, target_kind=Kind.PILOT_PLATFORM)[0]
    assert ("chain", "产业链相同: 新能源") in _said(platform_match)


def test_a_demand_word_no_record_holds_lowers_the_evidence_not_the_order() -> None:
    """永磁体退磁检测 against motors that never mention 退磁: the best record carries less of the demand
    than it would if the demand did not ask for it, so its evidence (and 匹配度) is lower."""
    engine = MatchEngine.build(
        [
            achievement("rotor", "永磁同步电机转子结构"),
            achievement("clutch", "永磁离合器"),
            achievement("pump", "离心泵叶轮"),
        ]
    )
    plain = engine.rank(demand("永磁电机"), include_weak=True, target_kind=Kind.ACHIEVEMENT)
    unseen = engine.rank(demand("永磁电机退磁"), include_weak=True, target_kind=Kind.ACHIEVEMENT)
    assert [m.id for m in unseen][:2] == [m.id for m in plain][:2] == ["rotor", "clutch"]
    assert unseen[0].signals["lexical"] < plain[0].signals["lexical"]
    assert unseen[0].score < plain[0].score
    ignored = engine.config.replace(unseen_weight=0.0)
    engine.use_config(ignored)
    as_before = engine.rank(demand("永磁电机退磁"), include_weak=True, target_kind=Kind.ACHIEVEMENT)
    assert as_before[0].signals["lexical"] == pytest.approx(plain[0].signals["lexical"])


def test_every_kind_of_match_of_a_demand_meets_the_threshold() -> None:
    """An expert who shares one common word with the demand is filler, not a match; a patent's list of
    demands (no graded pairs for that direction) keeps every record with evidence."""
    engine = MatchEngine.build(
        [
            MatchDoc(kind=Kind.EXPERT, id="coat", title="周教授", text="锂电池隔膜涂覆工艺与隔膜耐热性"),
            MatchDoc(kind=Kind.EXPERT, id="weak", title="钱教授", text="桥梁施工工艺"),
            achievement("p", "一种锂电池隔膜涂覆工艺"),
            demand("锂电池隔膜涂覆工艺", id="d", text="提升隔膜耐热性"),
        ]
    )
    query = demand("锂电池隔膜涂覆工艺", text="提升隔膜耐热性")
    weak = engine.rank(query, target_kind=Kind.EXPERT, include_weak=True)
    assert [m.id for m in weak] == ["coat", "weak"]
    assert weak[1].score < engine.config.min_match <= weak[0].score
    assert [m.id for m in engine.rank(query, target_kind=Kind.EXPERT)] == ["coat"]
    patent = MatchDoc(kind=Kind.ACHIEVEMENT, id="p", title="一种锂电池隔膜涂覆工艺")
    assert [m.id for m in engine.rank(patent, target_kind=Kind.DEMAND)] == ["d"]


def test_reasons_name_the_demand_title_words_a_record_never_mentions() -> None:
    """A record on the demand's object but not its problem says so; one that covers the title does not."""
    engine = MatchEngine.build(
        [
            achievement("rotor", "永磁同步电机转子结构"),
            achievement("test", "一种永磁电机退磁检测装置"),
            *[achievement(f"pump{i}", f"离心泵叶轮{i}号设计方法") for i in range(20)],
        ]
    )
    matches = engine.rank(demand("驱动电机永磁体退磁检测"), include_weak=True, target_kind=Kind.ACHIEVEMENT)
    by_id = {m.id: m for m in matches}
    rotor = [r for r in by_id["rotor"].reasons if r.code == "missing_terms"]
    assert len(rotor) == 1 and "退磁" in rotor[0].text and "检测" in rotor[0].text
    assert "永磁体" not in rotor[0].text  # the record holds 永磁: partly covered is not "never mentioned"
    assert set(rotor[0].terms) == {"退磁", "检测", "驱动"}  # the words, for the page's note over a list
    missing = [r.text for r in by_id["test"].reasons if r.code == "missing_terms"]
    assert missing == ["需求标题中的 驱动 未在该记录中出现"]
    assert matches[0].id == "test"


def test_a_title_word_no_record_it_may_see_mentions_is_named_as_absent() -> None:
    """With no record on 退磁 that the demand's zone may see, every match says so; another zone's private
    record on 退磁 does not count; a record the zone may see that holds a related word (消磁) does, though
    it is not in the list."""
    rotor = achievement("rotor", "永磁同步电机转子结构", zone_code="wuxi")
    pumps = [achievement(f"pump{i}", f"离心泵叶轮{i}号设计方法", zone_code="wuxi") for i in range(20)]
    elsewhere = achievement("xian", "永磁电机退磁检测装置", zone_code="xian")  # private to Xi'an
    engine = MatchEngine.build([rotor, *pumps, elsewhere])
    query = demand("驱动电机永磁体退磁检测", zone_code="wuxi")

    def absent(filters: Filters) -> set[tuple[str, ...]]:
        found = engine.rank(query, target_kind=Kind.ACHIEVEMENT, filters=filters, include_weak=True, top_k=3)
        assert found
        return {r.terms for m in found for r in m.reasons if r.code == "absent_terms"}

    wuxi = Filters(zone="wuxi")
    assert absent(wuxi) == {("驱动", "退磁", "检测")}
    top = engine.rank(query, target_kind=Kind.ACHIEVEMENT, filters=wuxi, include_weak=True)[0]
    assert "可匹配的记录都没有提到需求标题中的 驱动、退磁、检测" in [r.text for r in top.reasons]
    assert absent(Filters()) == {("驱动",)}  # unfiltered, Xi'an's record is a candidate: it holds 退磁, 检测
    engine.upsert([achievement("fade", "一种永磁材料消磁评估方法", zone_code="wuxi")])
    assert absent(wuxi) == {("驱动", "检测")}  # 消磁 is a related word of 退磁 (the packaged thesaurus)


def test_best_breaks_ties_by_position_also_at_the_last_place() -> None:
    """A partition alone picks any record tied at the k-th place; shards of a catalogue must pick the
    same one as a single index (the earliest), or their merged lists differ. Long arrays take the sampled
    path (a strided sample bounds the k-th best), which must pick the same."""
    short = np.array([0.5, 0.9, 0.7, 0.7, 0.7, 0.7, 0.1] * 50, np.float32)
    long = np.random.default_rng(7).integers(0, 40, 5_000).astype(np.float32) / 40
    for total in (short, long):
        for k in range(1, 12):
            expected = sorted(range(total.size), key=lambda i: (-total[i], i))[:k]
            assert MatchEngine._best(total, k).tolist() == expected

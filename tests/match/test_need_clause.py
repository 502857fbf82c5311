"""A demand's need clause (需要…, 希望…) names the solution; its words count more than the background's."""

from __future__ import annotations

import pytest

from techbridge.match import Kind, MatchConfig, MatchEngine
from techbridge.text import need_clauses

from .catalogue import achievement, demand


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "我们是做汽车零部件的机加工厂, 排产全靠老调度员。希望有能从历史排产中自动学习的生产管控系统。",
            ["有能从历史排产中自动学习的生产管控系统"],
        ),
        ("压裂返排液高盐高有机物, 需低成本处理与回用技术。", ["低成本处理与回用技术"]),
        (
            "需要热障涂层的无损检测方法; 要求检测准确率 98% 以上",
            ["热障涂层的无损检测方法", "检测准确率 98% 以上"],
        ),
        ("想找一套尾气设备", ["一套尾气设备"]),
        ("薄膜拉伸后强度不够, 如何在不加厚的前提下提高强度?", ["在不加厚的前提下提高强度"]),
        # 需求 and 理想 ask for nothing; a demand without a request has no need clause.
        ("客户需求多样, 理想的方案尚未出现。", []),
        ("光伏组件隐裂缺陷自动检测", []),
    ],
)
def test_need_clauses_are_the_requests_to_the_end_of_their_sentence(text: str, clauses: list[str]) -> None:
    assert need_clauses(text) == clauses


def test_a_request_in_the_title_stops_at_the_title() -> None:
    assert need_clauses("寻求隔膜涂覆浆料", "我司生产锂电池隔膜, 需要提升耐热性") == [
        "隔膜涂覆浆料",
        "提升耐热性",
    ]


DOCS = [
    achievement("background", "隔膜的拉伸装置"),
    achievement("need", "涂覆浆料的配方"),
]
# The demand names its product, 隔膜, four times and what it asks for once: read as plain text, the
# record on the product wins; read with its request, the record on what the enterprise asks for does.
QUERY = demand("隔膜", text="我司的隔膜有两种: 干法隔膜与湿法隔膜。寻求涂覆浆料配方。")


def _ranked(need_weight: float) -> list[str]:
    engine = MatchEngine.build(DOCS, config=MatchConfig(need_weight=need_weight))
    return [m.id for m in engine.rank(QUERY, target_kind=Kind.ACHIEVEMENT, top_k=2, include_weak=True)]


def test_the_words_of_the_request_decide_over_the_background() -> None:
    assert _ranked(0.0) == ["background", "need"]
    assert _ranked(0.5) == ["need", "background"]


def test_only_demands_have_need_clauses() -> None:
    """An achievement ranked against demands reads its text plainly (需要 in a patent is no request)."""
    engine = MatchEngine.build([demand("涂覆浆料", id="d")], config=MatchConfig(need_weight=0.5))
    patent = achievement("p", "隔膜", text="需要涂覆浆料")
    words = engine.query_words(patent)
    assert set(words.counts[words.own()].tolist()) == {1.0}

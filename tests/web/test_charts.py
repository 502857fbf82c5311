"""Chart options built from small hand-made results: the numbers land in the series ECharts draws."""

from __future__ import annotations

from techbridge.analytics.models import Breakdown, BreakdownRow, CrossZone, Flow
from techbridge.web.charts import bar_option, breakdown_option, pie_option, sankey_option


def _row(key: str, deals: int, deployed: int) -> BreakdownRow:
    return BreakdownRow(
        key=key, deals=deals, open=deals - deployed, deployed=deployed, dropped=0, contract_value=0
    )


def test_bar_keeps_the_given_order_and_pie_names_each_slice() -> None:
    bar = bar_option("需求按产业链分布", [("新能源", 5), ("集成电路", 2)], "#1d4ed8")
    assert bar["yAxis"]["data"] == ["新能源", "集成电路"]
    assert bar["series"][0]["data"] == [5, 2]
    pie = pie_option("成果类型构成", [("发明专利", 3), ("软件著作权", 1)])
    assert pie["series"][0]["data"] == [{"name": "发明专利", "value": 3}, {"name": "软件著作权", "value": 1}]


def test_breakdown_shows_deals_and_deployed_side_by_side_for_the_top_groups() -> None:
    result = Breakdown(
        dimension="university",
        label="高校",
        rows=[_row("江南大学", 4, 1), _row("四川大学", 2, 2), _row("电子科技大学", 1, 0)],
    )
    option = breakdown_option(result, limit=2)
    assert option["title"]["text"] == "按高校: 项目数与落地数"
    assert option["yAxis"]["data"] == ["江南大学", "四川大学"]
    assert [(s["name"], s["data"]) for s in option["series"]] == [("项目数", [4, 2]), ("已落地", [1, 2])]


def test_sankey_keeps_supplier_and_demander_nodes_apart() -> None:
    flows = CrossZone(
        flows=[
            Flow(demand_zone="wuxi", supplier_zone="chengdu", deals=3, deployed=1),
            Flow(demand_zone="chengdu", supplier_zone="wuxi", deals=1, deployed=0),
        ]
    )
    names = {"wuxi": "无锡国家高新技术产业开发区", "chengdu": "成都国家高新区"}
    series = sankey_option(flows, names)["series"][0]
    assert [n["name"] for n in series["data"]] == [
        "供 · 成都国家高新区",
        "供 · 无锡国家高新区",
        "需 · 无锡国家高新区",
        "需 · 成都国家高新区",
    ]
    assert series["links"][0] == {
        "source": "供 · 成都国家高新区",
        "target": "需 · 无锡国家高新区",
        "value": 3,
    }

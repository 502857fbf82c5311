"""ECharts options built from query results, shared by the home page and the 科创云图 dashboard.

Options are plain dicts that the page embeds as JSON; ``static/app.js`` hands each one to ECharts. Keeping
every builder here gives all charts the same title style, palette and spacing.
"""

from __future__ import annotations

from typing import Any

from ..analytics.models import Breakdown, CrossZone, Funnel, MonthlyCounts, ProvinceMap

CHART_COLORS = ["#1d4ed8", "#7a3ee8", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#64748b"]
STAGE_COLORS = ["#93c5fd", "#60a5fa", "#3b82f6", "#2563eb", "#1d4ed8", "#1e40af", "#059669"]


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "left": 0, "textStyle": {"fontSize": 14, "fontWeight": 500}}


def bar_option(title: str, pairs: list[tuple[str, int]], color: str) -> dict[str, Any]:
    """Horizontal bars, largest first as given: category names stay readable however long they are."""
    return {
        "title": _title(title),
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": [name for name, _ in pairs]},
        "series": [
            {"type": "bar", "data": [n for _, n in pairs], "itemStyle": {"color": color}, "barMaxWidth": 18}
        ],
    }


def pie_option(title: str, pairs: list[tuple[str, int]]) -> dict[str, Any]:
    """A ring chart, set a little below the middle so its labels clear the title."""
    return {
        "title": _title(title),
        "color": CHART_COLORS,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [
            {
                "type": "pie",
                "radius": ["38%", "62%"],
                "center": ["50%", "55%"],
                "data": [{"name": name, "value": n} for name, n in pairs],
                "label": {"formatter": "{b}\n{c}"},
            }
        ],
    }


def funnel_option(funnel: Funnel) -> dict[str, Any]:
    return {
        "title": _title("撮合转化漏斗 (曾到达各阶段的项目数)"),
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} 项"},
        "color": STAGE_COLORS,
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "top": 40,
                "bottom": 10,
                "minSize": "24%",
                "gap": 2,
                "label": {"position": "inside", "formatter": "{b}  {c}", "color": "#fff"},
                "data": [{"name": s.label, "value": s.reached} for s in funnel.stages],
            }
        ],
    }


def trend_option(trend: MonthlyCounts) -> dict[str, Any]:
    return {
        "title": _title("各类资源月度新增"),
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": trend.months},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "line", "name": k, "smooth": True, "data": v} for k, v in trend.series.items()],
    }


def breakdown_option(result: Breakdown, *, limit: int = 10) -> dict[str, Any]:
    """Deals and deployed deals side by side for the ``limit`` largest groups."""
    rows = result.rows[:limit]
    option = bar_option(f"按{result.label}: 项目数与落地数", [(r.key, r.deals) for r in rows], "#3b82f6")
    option["legend"] = {"bottom": 0}
    option["grid"] = {**option["grid"], "bottom": 28}
    option["series"][0]["name"] = "项目数"
    option["series"].append(
        {
            "type": "bar",
            "name": "已落地",
            "data": [r.deployed for r in rows],
            "itemStyle": {"color": "#059669"},
            "barMaxWidth": 18,
        }
    )
    return option


def map_option(result: ProvinceMap) -> dict[str, Any]:
    top = max((p.count for p in result.provinces), default=0)
    return {
        "title": _title(result.title),
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
        "visualMap": {
            "min": 0,
            "max": max(top, 1),
            "left": 8,
            "bottom": 8,
            "calculable": True,
            "inRange": {"color": ["#eff6ff", "#93c5fd", "#1d4ed8"]},
            "text": ["多", "少"],
        },
        "series": [
            {
                "type": "map",
                "map": "china",
                "roam": False,
                "top": 36,
                "bottom": 8,
                "label": {"show": False},
                "emphasis": {"label": {"show": True}},
                "data": [{"name": p.short_name, "value": p.count} for p in result.provinces],
            }
        ],
    }


def sankey_option(result: CrossZone, names: dict[str, str]) -> dict[str, Any]:
    # Suppliers and demanders are separate nodes, so A→B and B→A never make a cycle.
    def short(code: str) -> str:
        return names.get(code, code).replace("高新技术产业开发区", "高新区")

    def supplier(code: str) -> str:
        return f"供 · {short(code)}"

    def demander(code: str) -> str:
        return f"需 · {short(code)}"

    nodes = dict.fromkeys(
        [supplier(f.supplier_zone) for f in result.flows] + [demander(f.demand_zone) for f in result.flows]
    )
    return {
        "title": _title("跨园区撮合: 哪些园区的资源服务了哪些园区的需求"),
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "sankey",
                "top": 40,
                "left": 8,
                "right": 120,
                "nodeGap": 12,
                "data": [{"name": n} for n in nodes],
                "links": [
                    {"source": supplier(f.supplier_zone), "target": demander(f.demand_zone), "value": f.deals}
                    for f in result.flows
                ],
                "lineStyle": {"color": "gradient", "opacity": 0.4},
            }
        ],
    }

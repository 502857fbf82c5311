"""Typed, chart-ready results of the analytics; each can also be flattened to a table for export."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from ..domain.calendar import tz_label

Cell = str | int | float | None


class TableData(BaseModel):
    """A flat table with Chinese column headers, ready for the terminal, CSV or XLSX."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class MonthlyCounts(BaseModel):
    """New records per month, one series per record kind (an ECharts line/bar chart)."""

    months: list[str]
    series: dict[str, list[int]]

    def table(self) -> TableData:
        kinds = list(self.series)
        rows: list[list[Cell]] = [[m, *(self.series[k][i] for k in kinds)] for i, m in enumerate(self.months)]
        return TableData(title="各类资源月度新增", columns=["月份", *kinds], rows=rows)


class CoverageRow(BaseModel):
    zone_code: str
    open_demands: int
    covered: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float | None:
        return self.covered / self.open_demands if self.open_demands else None


class Coverage(BaseModel):
    """Share of open demands with at least one stored match scoring at least ``threshold``."""

    threshold: float
    rows: list[CoverageRow]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def open_demands(self) -> int:
        return sum(r.open_demands for r in self.rows)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.rows)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float | None:
        return self.covered / self.open_demands if self.open_demands else None

    def table(self) -> TableData:
        rows: list[list[Cell]] = [[r.zone_code, r.open_demands, r.covered, _rate(r.share)] for r in self.rows]
        rows.append(["合计", self.open_demands, self.covered, _rate(self.share)])
        return TableData(
            title=f"需求匹配覆盖率 (匹配分 ≥ {self.threshold:g})",
            columns=["园区", "征集中需求", "有匹配的需求", "覆盖率"],
            rows=rows,
        )


class StageRow(BaseModel):
    stage: str
    label: str
    reached: int
    current: int
    conversion_to_next: float | None
    median_days: float | None


class Funnel(BaseModel):
    """Deals that reached each stage, where they are now, conversion to the next stage, median days spent."""

    stages: list[StageRow]
    total: int
    deployed: int
    dropped: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conversion_rate(self) -> float | None:
        return self.deployed / self.total if self.total else None

    def table(self) -> TableData:
        rows: list[list[Cell]] = [
            [s.label, s.reached, s.current, _rate(s.conversion_to_next), s.median_days] for s in self.stages
        ]
        rows.append(["终止", self.dropped, self.dropped, None, None])
        return TableData(
            title=f"撮合转化漏斗 (共 {self.total} 项, 落地转化率 {_rate(self.conversion_rate)})",
            columns=["阶段", "曾到达", "当前", "进入下一阶段比例", "停留天数中位数"],
            rows=rows,
        )


class BreakdownRow(BaseModel):
    key: str
    deals: int
    open: int
    deployed: int
    dropped: int
    contract_value: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conversion_rate(self) -> float | None:
        return self.deployed / self.deals if self.deals else None


class Breakdown(BaseModel):
    """Deals grouped by one dimension (industry chain, university, zone, province or region)."""

    dimension: str
    label: str
    rows: list[BreakdownRow]

    def table(self) -> TableData:
        rows: list[list[Cell]] = [
            [
                r.key,
                r.deals,
                r.open,
                r.deployed,
                r.dropped,
                _rate(r.conversion_rate),
                round(r.contract_value, 2),
            ]
            for r in self.rows
        ]
        return TableData(
            title=f"按{self.label}统计撮合项目",
            columns=[self.label, "项目数", "进行中", "已落地", "已终止", "落地转化率", "合同金额(万元)"],
            rows=rows,
        )


class Flow(BaseModel):
    demand_zone: str
    supplier_zone: str
    deals: int
    deployed: int


class CrossZone(BaseModel):
    """Which zones supply resources to which zones' demands (an ECharts sankey)."""

    flows: list[Flow]

    def table(self) -> TableData:
        rows: list[list[Cell]] = [[f.demand_zone, f.supplier_zone, f.deals, f.deployed] for f in self.flows]
        return TableData(
            title="跨园区撮合", columns=["需求方园区", "供给方园区", "项目数", "已落地"], rows=rows
        )


class ProvinceCount(BaseModel):
    province: str
    short_name: str
    region: str
    count: int


class ProvinceMap(BaseModel):
    """A value per province (for the China map), plus totals by NBS region."""

    title: str
    provinces: list[ProvinceCount]
    regions: dict[str, int]

    def table(self) -> TableData:
        rows: list[list[Cell]] = [[p.province, p.region, p.count] for p in self.provinces]
        return TableData(title=self.title, columns=["省份", "区域", "数量"], rows=rows)


class ActivityRow(BaseModel):
    deal_id: int
    title: str
    from_label: str
    to_label: str
    actor: str
    at: str = Field(description="'YYYY-MM-DD HH:MM' on the clock of the report's time zone")
    note: str


class MonthActivity(BaseModel):
    """What happened to deals in one calendar month of the platform's time zone (北京时间 by default)."""

    month: str
    timezone: str = Field(description="IANA time zone of the month's bounds and of each change's time")
    started: int
    deployed: int
    dropped: int
    contract_value: float
    funding_amount: float
    events: list[ActivityRow]

    def table(self) -> TableData:
        rows: list[list[Cell]] = [
            [e.at, e.deal_id, e.title, e.from_label, e.to_label, e.actor, e.note] for e in self.events
        ]
        return TableData(
            title=f"{self.month} 撮合项目阶段变更",
            columns=[
                f"时间 ({tz_label(self.timezone)})",
                "项目编号",
                "项目",
                "原阶段",
                "新阶段",
                "操作人",
                "说明",
            ],
            rows=rows,
        )


class MonthlyReport(BaseModel):
    """The zone committee's monthly report: the month's activity and the state of the pipeline."""

    zone: str
    month: str
    new_records: dict[str, int]
    activity: MonthActivity
    funnel: Funnel
    coverage: Coverage
    by_chain: Breakdown
    cross_zone: CrossZone

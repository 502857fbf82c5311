"""Analytics (科创云图) as data: one endpoint per metric, CSV/XLSX export of any of them, the monthly report.

Every number is computed for the caller (``services.analytics``: their zone, and only the deals they may
see, redacted as their deal list shows them); a platform admin may pick one zone with ``zone``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from ...analytics.models import MonthlyReport
from ...errors import TechBridgeError
from ...services import analytics
from ..deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/analytics", tags=["analytics"])

ZoneQuery = Annotated[str | None, Query(max_length=32, description="Platform admins: one zone's view")]
ThresholdQuery = Annotated[
    float, Query(ge=0, le=100, description="Score a stored match needs to count for coverage")
]


class UnknownMetric(TechBridgeError):
    status = 404


MetricName = Literal[tuple(analytics.METRICS)]  # type: ignore[valid-type]


def _add_metric_route(name: str, metric: analytics.Metric) -> None:
    def read(
        session: SessionDep,
        user: CurrentUser,
        settings: SettingsDep,
        zone: ZoneQuery = None,
        threshold: ThresholdQuery = analytics.DEFAULT_THRESHOLD,
    ) -> Any:
        return analytics.compute(session, name, user=user, zone=zone, threshold=threshold, tz=settings.tz)

    read.__name__ = f"read_{name.replace('-', '_')}"
    router.add_api_route(f"/{name}", read, methods=["GET"], response_model=metric.model, summary=metric.title)


for _name, _metric in analytics.METRICS.items():
    _add_metric_route(_name, _metric)


@router.get("/report/{month}", response_model=MonthlyReport, summary="The zone committee's monthly report")
def monthly_report(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    month: Annotated[
        str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, a month of TECHBRIDGE_DISPLAY_TIMEZONE")
    ],
    zone: ZoneQuery = None,
    threshold: ThresholdQuery = analytics.DEFAULT_THRESHOLD,
) -> MonthlyReport:
    return analytics.monthly_report(
        session, user=user, month=month, zone=zone, threshold=threshold, tz=settings.tz
    )


@router.get("/{metric}/export", summary="Download one metric's table as CSV or XLSX")
def export(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    metric: Annotated[MetricName, Path()],
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
    zone: ZoneQuery = None,
    threshold: ThresholdQuery = analytics.DEFAULT_THRESHOLD,
) -> Response:
    file = analytics.export(
        session, metric, user=user, fmt=format, zone=zone, threshold=threshold, tz=settings.tz
    )
    return Response(
        file.content,
        media_type=file.content_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@router.get("/{metric}", include_in_schema=False)
def unknown_metric(user: CurrentUser, metric: str) -> None:
    """After every metric's own route: a misspelt metric is told which ones exist, in Chinese."""
    raise UnknownMetric(f"指标 {metric!r} 不存在, 可选: {'、'.join(analytics.METRICS)}")

"""Every error answers in Chinese, including the ones the framework makes (no route, wrong method) and a
misspelt analytics metric, which is also told the metrics that exist."""

from __future__ import annotations

import re

from techbridge.services.analytics import METRICS

from .conftest import Api

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_an_unknown_metric_answers_in_chinese_with_the_choices(api: Api) -> None:
    response = api.get("/analytics/funel", "wuxi_admin")
    assert response.status_code == 404  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert detail.startswith("指标 'funel' 不存在, 可选: ") and all(name in detail for name in METRICS)


def test_framework_errors_answer_in_chinese(api: Api) -> None:
    missing = api.get("/no-such-thing", "wuxi_admin")
    wrong_method = api.client.delete("/api/v1/login")
    for response, status in ((missing, 404), (wrong_method, 405)):
        assert response.status_code == status  # type: ignore[attr-defined]
        assert CJK.search(response.json()["detail"]), response.json()  # type: ignore[attr-defined]


def test_a_mistyped_page_address_is_a_chinese_page(api: Api) -> None:
    page = api.client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "您要找的内容不存在" in page.text and "Not Found" not in page.text

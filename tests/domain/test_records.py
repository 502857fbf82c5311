"""Each record kind accepts what real spreadsheets hold and refuses bad values with a Chinese reason."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from techbridge.domain.enums import AchievementKind, LegalStatus, TransferMode, Visibility
from techbridge.domain.records import (
    Achievement,
    Demand,
    Expert,
    IndustryChain,
    Instrument,
    Organization,
    PilotPlatform,
    Zone,
)
from techbridge.domain.validation import describe_errors


def reasons(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {e.field: e.reason for e in describe_errors(exc.value)}


def test_zone_and_chain() -> None:
    zone = Zone(code="wuxi", name="无锡高新技术产业开发区", province="江苏省", approved_date="1992.11")
    assert zone.kind == "national"
    with pytest.raises(ValidationError):
        Zone(code="Wu Xi", name="无锡", province="江苏省")
    chain = IndustryChain(code="battery", name="新能源电池", keywords="锂电池、储能、隔膜")
    assert chain.keywords == ["锂电池", "储能", "隔膜"]


def test_organization_credit_code() -> None:
    org = Organization(zone_code="wuxi", name="华为技术有限公司", credit_code="914403001922038216")
    assert org.natural_key() == "uscc:914403001922038216"
    with pytest.raises(ValidationError) as caught:
        Organization(zone_code="wuxi", name="某公司", credit_code="914403001922038217", kind="企业")
    assert "校验位" in reasons(caught)["credit_code"]
    assert Organization(zone_code="wuxi", name="江南大学", kind="高校").kind == "university"


def test_demand_budget_deadline_and_lists() -> None:
    demand = Demand(
        zone_code="wuxi",
        title="锂电池隔膜涂覆工艺",
        organization="无锡甲公司",
        keywords="隔膜；涂覆, 陶瓷",
        budget_min="50",
        budget_max=200,
        deadline="2027-06-30",
        visibility="共享",
    )
    assert demand.keywords == ["隔膜", "涂覆", "陶瓷"]
    assert demand.deadline == date(2027, 6, 30)
    assert demand.visibility is Visibility.SHARED
    with pytest.raises(ValidationError) as caught:
        Demand(zone_code="wuxi", title="需求", organization="无锡甲公司")
    assert reasons(caught) == {"title": "太短, 至少 4 个字"}
    with pytest.raises(ValidationError) as caught:
        Demand(
            zone_code="wuxi", title="隔膜涂覆工艺", organization="无锡甲公司", budget_min=300, budget_max=100
        )
    assert reasons(caught) == {"(整行)": "预算下限不能高于上限"}


def test_achievement_fields() -> None:
    patent = Achievement(
        zone_code="wuxi",
        kind="发明专利",
        title="一种锂电池隔膜",
        application_number="202310123456.6",
        publication_number="CN116000000A",
        ipc_codes="H01M10/052|H01M 50/40",
        applicants="江南大学;无锡甲公司",
        legal_status="授权",
        trl=6,
        transfer_modes="转让、独占许可",
        asking_price="120.5",
    )
    assert patent.kind is AchievementKind.INVENTION
    assert patent.legal_status is LegalStatus.GRANTED
    assert patent.transfer_modes == [TransferMode.ASSIGNMENT, TransferMode.LICENSE]
    assert patent.owner == "江南大学"
    assert patent.ipc_subclasses == ["H01M"]
    assert patent.natural_key() == "pub:CN116000000A"
    with pytest.raises(ValidationError) as caught:
        Achievement(
            zone_code="wuxi", title="一种装置", trl=0, ipc_codes="X99", transfer_modes="赠送", kind="专利"
        )
    found = reasons(caught)
    assert found["trl"] == "不能小于 1"
    assert "IPC" in found["ipc_codes"]
    assert "可选" in found["transfer_modes"] and "可选" in found["kind"]
    with pytest.raises(ValidationError, match="只有专利"):
        Achievement(zone_code="wuxi", title="一篇论文", kind="论文", publication_number="CN116000000A")


def test_expert_instrument_platform() -> None:
    expert = Expert(zone_code="wuxi", name="张三", fields="材料科学与工程、化学", contact="13800000000")
    assert expert.fields == ["材料科学与工程", "化学"] and expert.max_active_deals == 5
    with pytest.raises(ValidationError):
        Expert(zone_code="wuxi", name="张")
    instrument = Instrument(zone_code="wuxi", name="场发射扫描电子显微镜", model="SU8010", hourly_fee="300")
    assert instrument.hourly_fee == 300.0
    with pytest.raises(ValidationError) as caught:
        Instrument(zone_code="wuxi", name="透射电镜", hourly_fee=-1)
    assert reasons(caught)["hourly_fee"] == "不能小于 0"
    platform = PilotPlatform(zone_code="chengdu", name="成都中试平台", industry_chains="生物医药;集成电路")
    assert platform.industry_chains == ["生物医药", "集成电路"]
    assert platform.natural_key() != PilotPlatform(zone_code="wuxi", name="成都中试平台").natural_key()


def _demand(title: str, organization: str = "无锡甲公司") -> Demand:
    return Demand(zone_code="wuxi", title=title, organization=organization)


@pytest.mark.parametrize(
    "other",
    [
        "型号 11-2 测试需求",
        "型号 11.2 测试需求",
        "型号112测试需求",
        "型号 1 12 测试需求",
        "型号 1/12 测试需求",
    ],
)
def test_different_model_numbers_are_different_records(other: str) -> None:
    """Issue 9, item 9: dropping the separator between digits made 1-12, 11-2, 11.2 and 112 one key."""
    first = _demand("型号 1-12 测试需求")
    assert _demand(other).natural_key() != first.natural_key()
    assert _demand(other).duplicate_key() != first.duplicate_key()


def test_a_dash_between_digits_is_not_a_range_of_other_numbers() -> None:
    assert _demand("规格 2-13 型号需求").natural_key() != _demand("规格 21-3 型号需求").natural_key()


@pytest.mark.parametrize(
    "same",
    [
        "型号 1-12 测试需求",
        "型号１－１２测试需求",  # full-width digits and dash
        "型号 1 - 12 测试需求",  # spacing around the separator
        "型号 1–12 测试需求",  # an en dash typed by a word processor
        "型号1-12，测试需求。",  # punctuation around words
        "  型号  1-12  测试需求 ",
    ],
)
def test_genuine_duplicates_still_share_a_key(same: str) -> None:
    first = _demand("型号 1-12 测试需求")
    assert _demand(same).natural_key() == first.natural_key()
    assert _demand(same).duplicate_key() == first.duplicate_key()


def test_spelling_variants_of_words_still_share_a_key() -> None:
    first = _demand("锂电池 隔膜涂覆技术")
    for same in ("锂电池隔膜涂覆技术", "锂电池·隔膜，涂覆技术", "锂电池(隔膜)涂覆技术"):
        assert _demand(same).natural_key() == first.natural_key()
    assert Achievement(zone_code="wuxi", title="一种锂电池隔膜", owner="江南大学").duplicate_key() == (
        Achievement(zone_code="wuxi", title="锂电池隔膜。", owner="江南大学").duplicate_key()
    )

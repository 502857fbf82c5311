"""Every stage-transition rule, and stage durations, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from techbridge.domain.deals import (
    OPEN_STAGES,
    PIPELINE,
    DealEvent,
    DealStage,
    furthest_stage,
    parse_stage,
    stage_durations,
    transition_problem,
)

S = DealStage
FORWARD_STEPS = list(zip(PIPELINE, PIPELINE[1:], strict=False))


@pytest.mark.parametrize(("current", "target"), FORWARD_STEPS)
def test_one_step_forward_needs_no_reason(current: DealStage, target: DealStage) -> None:
    assert transition_problem(current, target) is None


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.MATCHED, S.NEGOTIATING), (S.NEGOTIATING, S.DEPLOYED), (S.CONTACTED, S.FUNDING)],
)
def test_skipping_stages_needs_a_stated_reason(current: DealStage, target: DealStage) -> None:
    problem = transition_problem(current, target)
    assert problem is not None and "跳过阶段" in problem
    assert transition_problem(current, target, reason="   ") is not None  # blank is no reason
    assert transition_problem(current, target, reason="许可方式转让, 无需中试") is None


def test_skip_message_names_the_skipped_stages() -> None:
    problem = transition_problem(S.NEGOTIATING, S.FUNDING)
    assert problem is not None and "中试、孵化" in problem


@pytest.mark.parametrize(("current", "target"), [(S.PILOT_TEST, S.NEGOTIATING), (S.FUNDING, S.MATCHED)])
def test_going_back_needs_a_reason(current: DealStage, target: DealStage) -> None:
    problem = transition_problem(current, target)
    assert problem is not None and "退回" in problem
    assert transition_problem(current, target, reason="中试未通过, 重新洽谈工艺参数") is None


@pytest.mark.parametrize("current", OPEN_STAGES)
def test_drop_from_every_open_stage_needs_a_reason(current: DealStage) -> None:
    assert transition_problem(current, S.DROPPED) == "终止项目必须填写原因"
    assert transition_problem(current, S.DROPPED, reason="企业预算取消") is None


@pytest.mark.parametrize("closed", [S.DEPLOYED, S.DROPPED])
@pytest.mark.parametrize("target", list(DealStage))
def test_a_closed_deal_never_moves(closed: DealStage, target: DealStage) -> None:
    problem = transition_problem(closed, target, reason="重新启动")
    assert problem is not None and "不能再变更阶段" in problem


def test_staying_in_the_same_stage_is_not_a_move() -> None:
    assert transition_problem(S.NEGOTIATING, S.NEGOTIATING, reason="x") == "目标阶段与当前阶段相同"


def test_contract_value_only_from_pilot_test_on() -> None:
    assert transition_problem(S.CONTACTED, S.NEGOTIATING, contract_value=50) is not None
    assert transition_problem(S.NEGOTIATING, S.PILOT_TEST, contract_value=50) is None
    assert transition_problem(S.NEGOTIATING, S.PILOT_TEST, contract_value=-1) == "合同金额不能为负数"
    assert transition_problem(S.PILOT_TEST, S.DROPPED, reason="x", contract_value=5) is not None


def test_funding_amount_only_when_entering_funding_or_deployed() -> None:
    assert transition_problem(S.INCUBATION, S.FUNDING, funding_amount=300) is None
    assert transition_problem(S.FUNDING, S.DEPLOYED, funding_amount=100) is None
    assert transition_problem(S.PILOT_TEST, S.INCUBATION, funding_amount=300) is not None
    assert transition_problem(S.INCUBATION, S.FUNDING, funding_amount=-5) == "融资金额不能为负数"


@pytest.mark.parametrize(
    ("text", "stage"), [("洽谈", S.NEGOTIATING), ("pilot_test", S.PILOT_TEST), ("场景落地", S.DEPLOYED)]
)
def test_parse_stage_accepts_code_and_label(text: str, stage: DealStage) -> None:
    assert parse_stage(text) is stage


def test_parse_stage_lists_choices() -> None:
    with pytest.raises(ValueError, match="已撮合"):
        parse_stage("签约")


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _ev(stage: DealStage, day: int) -> DealEvent:
    return DealEvent(from_stage=None, to_stage=stage, actor="u", at=T0 + timedelta(days=day))


def test_stage_durations_sum_repeated_visits_and_count_the_open_stay_up_to_now() -> None:
    # matched day 0-2, contacted 2-5, negotiating 5-9, pilot 9-12, back to negotiating 12-20, pilot 20-...
    events = [
        _ev(S.MATCHED, 0),
        _ev(S.CONTACTED, 2),
        _ev(S.NEGOTIATING, 5),
        _ev(S.PILOT_TEST, 9),
        _ev(S.NEGOTIATING, 12),
        _ev(S.PILOT_TEST, 20),
    ]
    completed = stage_durations(events)
    # negotiating: (9-5) + (20-12) = 4 + 8 = 12 days; pilot so far only 12-9 = 3 completed days
    assert completed == {
        S.MATCHED: timedelta(days=2),
        S.CONTACTED: timedelta(days=3),
        S.NEGOTIATING: timedelta(days=12),
        S.PILOT_TEST: timedelta(days=3),
    }
    # with now = day 25 the open pilot stay adds 25-20 = 5 days: 3 + 5 = 8
    assert stage_durations(events, now=T0 + timedelta(days=25))[S.PILOT_TEST] == timedelta(days=8)


def test_furthest_stage_ignores_drops_and_remembers_regressions() -> None:
    events = [_ev(S.MATCHED, 0), _ev(S.PILOT_TEST, 1), _ev(S.NEGOTIATING, 2), _ev(S.DROPPED, 3)]
    assert furthest_stage(events) is S.PILOT_TEST
    assert furthest_stage([]) is None

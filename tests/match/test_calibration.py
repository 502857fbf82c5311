"""匹配度: the calibrated probability reads how much the demand says, and never reorders a list."""

from __future__ import annotations

import numpy as np
import pytest

from techbridge.match import Kind, MatchConfig, MatchEngine
from techbridge.match.config import TOP_BAND, compress_top, top_of_band

from .catalogue import achievement, demand


def test_the_same_fused_score_means_less_for_a_demand_of_a_few_words() -> None:
    """On the graded demands, the records of a demand's title alone were judged relevant far less often
    than those of the whole demand at the same fused score (docs/matching.md)."""
    engine = MatchEngine(config=MatchConfig())
    low, high = engine.config.calibration_span
    fused = np.linspace(0.0, 2.0, 2001)
    for dense in (True, False):
        long = engine.calibrated(fused, dense=dense, words_said=high)
        short = engine.calibrated(fused, dense=dense, words_said=low)
        # Where the whole demand's record scores 70, the title's scores under 20.
        assert short[np.searchsorted(long, 0.7)] < 0.2
        # Outside the span the fit is not extrapolated: the nearest end of the span holds.
        assert np.array_equal(engine.calibrated(fused, dense=dense, words_said=1), short)


def test_calibration_keeps_the_order_of_every_list() -> None:
    engine = MatchEngine(config=MatchConfig())
    low, high = engine.config.calibration_span
    fused = np.linspace(0.0, 2.0, 201)
    for dense in (True, False):
        for size in np.geomspace(low, high, 12):
            probability = engine.calibrated(fused, dense=dense, words_said=float(size))
            assert np.all(np.diff(probability) > 0), (dense, size)


def test_the_top_claims_no_more_than_the_graded_results_there_support() -> None:
    """7 of the 7 graded results above 0.8 were relevant: about 0.89 by the rule of succession, so a
    record the logistic puts at 0.99 shows 匹配度 88, still above one it puts at 0.9."""
    engine = MatchEngine(config=MatchConfig())
    assert engine.config.calibration_top[0] == pytest.approx(8 / 9, abs=1e-3)
    fused = np.linspace(0.0, 2.0, 2001)
    for dense, top in zip((True, False), engine.config.calibration_top, strict=True):
        probability = engine.calibrated(fused, dense=dense, words_said=40)
        raw = engine.config.replace(calibration_top=(1.0, 1.0))
        fitted = MatchEngine(config=raw).calibrated(fused, dense=dense, words_said=40)
        assert probability.max() <= top and fitted.max() > 0.99
        assert np.all(np.diff(probability) > 0)
        below = fitted <= TOP_BAND
        assert np.array_equal(probability[below], fitted[below])  # the rest of the scale is untouched
    assert compress_top(np.array([0.99, 0.9, 0.8, 0.5]), 0.889).round(3).tolist() == [0.885, 0.844, 0.8, 0.5]
    assert top_of_band(7, 7) == pytest.approx(0.889, abs=1e-3) and top_of_band(0, 0) == 1.0
    assert top_of_band(1, 6) == pytest.approx(TOP_BAND + 0.01)  # a poor fit up there: the order still holds
    with pytest.raises(ValueError, match="calibration_top"):
        MatchConfig().replace(calibration_top=(0.9, 0.8))


def test_a_list_is_scored_with_its_query_size() -> None:
    engine = MatchEngine.build(
        [
            achievement("sep", "锂电池隔膜陶瓷涂覆工艺"),
            achievement("pump", "离心泵叶轮"),
            achievement("cell", "锂电池"),
        ]
    )
    for query in (
        demand("锂电池"),
        demand("锂电池隔膜陶瓷涂覆工艺优化", text="需要提升隔膜耐热性与涂层均匀性"),
    ):
        size = engine.query_words(query).said
        assert size > 0
        for match in engine.rank(query, target_kind=Kind.ACHIEVEMENT, include_weak=True):
            fused = np.array([sum(match.signals.values())])
            assert match.score == pytest.approx(
                engine.calibrated(fused, dense=False, words_said=size)[0], abs=1e-4
            )
    assert (
        engine.query_words(demand("锂电池")).said
        < engine.query_words(demand("锂电池隔膜陶瓷涂覆工艺优化")).said
    )


def test_a_calibration_of_another_shape_is_refused_or_replaced() -> None:
    with pytest.raises(ValueError, match="calibration_dense takes 4 numbers"):
        MatchConfig().replace(calibration_dense=(14.5, -14.5))
    # An index saved before the calibration read the query's size recorded two numbers: the current
    # calibration replaces them.
    stored = MatchConfig().to_json() | {"calibration_dense": [14.51, -14.47], "need_weight": 0.25}
    config = MatchConfig.from_json(stored)
    assert config.calibration_dense == MatchConfig().calibration_dense and config.need_weight == 0.25

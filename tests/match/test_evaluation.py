"""Metrics against hand-computed values, and the eval command on a tiny BEIR folder the test writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.match import Kind, MatchConfig, MatchEngine
from techbridge.match.evaluation import (
    CalibrationPairs,
    calibration_pairs,
    corpus_doc,
    evaluate,
    fit_calibration,
    mrr_at,
    ndcg_at,
    query_doc,
    read_beir,
    recall_at,
)

LOG3 = math.log2(3)


def test_metrics_binary_relevance_by_hand() -> None:
    ranked, relevant = ["a", "b", "c"], {"b": 1, "d": 1}
    # DCG = 1/log2(3) (b at rank 2); ideal DCG = 1 + 1/log2(3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx((1 / LOG3) / (1 + 1 / LOG3))
    assert recall_at(ranked, relevant, 100) == 0.5
    assert mrr_at(ranked, relevant, 10) == 0.5
    assert mrr_at(ranked, relevant, 1) == 0.0


def test_ndcg_graded_relevance_by_hand() -> None:
    # ranked b (gain 1) then a (gain 2): DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3)
    assert ndcg_at(["b", "a"], {"a": 2, "b": 1}, 10) == pytest.approx((1 + 2 / LOG3) / (2 + 1 / LOG3))


def test_evaluate_averages_judged_queries_only() -> None:
    run = {"q1": [("a", 2.0)], "q2": [("x", 1.0)], "unjudged": [("a", 1.0)]}
    qrels = {"q1": {"a": 1}, "q2": {"y": 1}}
    assert evaluate(run, qrels) == {"ndcg@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}


def _write_beir(folder: Path) -> None:
    corpus = [
        {"_id": "d1", "title": "锂电池隔膜", "text": "", "metadata": {"ipc": ["H01M"]}},
        {"_id": "d2", "title": "数据库查询优化", "text": "", "metadata": {"ipc": ["G06F"]}},
        {"_id": "d3", "title": "风力发电机叶片", "text": "复合材料叶片", "metadata": {"ipc": ["F03D"]}},
        {"_id": "d4", "title": "土壤改良肥料", "text": "", "metadata": {"ipc": ["C05G"]}},
    ]
    queries = [{"_id": "q1", "text": "锂电池隔膜"}, {"_id": "q2", "text": "风力发电机叶片"}]
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in corpus), "utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in queries), "utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq2\td4\t1\n", "utf-8"
    )


def test_eval_retrieval_command_on_tiny_beir_folder(tmp_path: Path) -> None:
    _write_beir(tmp_path / "beir")
    assert read_beir(tmp_path / "beir").qrels == {"q1": {"d1": 1}, "q2": {"d3": 1, "d4": 1}}
    _register()
    run_file = tmp_path / "run.tsv"
    result = CliRunner().invoke(
        app, ["eval", "retrieval", str(tmp_path / "beir"), "--top-k", "1", "--run-out", str(run_file)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    metrics = json.loads(lines[0])
    # q1 finds d1 at rank 1: nDCG 1, recall 1, MRR 1.
    # q2 finds d3 at rank 1 of its two relevant documents: nDCG = 1 / (1 + 1/log2(3)), recall 1/2, MRR 1.
    assert metrics["ndcg@10"] == pytest.approx((1 + 1 / (1 + 1 / LOG3)) / 2, abs=1e-4)
    assert metrics["recall@100"] == pytest.approx(0.75)
    assert metrics["mrr@10"] == pytest.approx(1.0)
    assert metrics["qps"] > 0
    rows = [line.split("\t") for line in run_file.read_text("utf-8").splitlines()]
    assert [(q, d) for q, d, _ in rows] == [("q1", "d1"), ("q2", "d3")]
    assert all(float(score) > 0 for *_, score in rows)


def test_fit_calibration_recovers_a_known_logistic() -> None:
    rng = np.random.default_rng(7)
    scores = rng.uniform(0.0, 1.5, 40_000)
    sizes = rng.integers(3, 31, scores.size).astype(float)
    a = -2.0 + 4.0 * np.log(sizes)  # a short query's fused score means less: a smaller slope
    b = -1.0 - 3.0 * np.log(sizes)
    relevant = rng.random(scores.size) < 1 / (1 + np.exp(-(a * scores + b)))
    forms = np.where(sizes < 10, "first sentence", "as written")
    fit = fit_calibration(CalibrationPairs(scores, sizes, relevant, forms))
    # The fitted probability is the true one wherever the sample reaches (the four parameters trade off).
    grid_s, grid_w = np.meshgrid(np.linspace(0.0, 1.5, 7), np.linspace(3.0, 30.0, 7))
    a0, a1, b0, b1 = fit.params
    fitted = 1 / (1 + np.exp(-((a0 + a1 * np.log(grid_w)) * grid_s + b0 + b1 * np.log(grid_w))))
    true = 1 / (1 + np.exp(-((-2.0 + 4.0 * np.log(grid_w)) * grid_s - 1.0 - 3.0 * np.log(grid_w))))
    assert np.abs(fitted - true).max() < 0.04
    assert fit.span == (3.0, 30.0) and fit.increasing
    assert fit.pairs == 40_000 and sum(n for _, _, n, _ in fit.bins["all"]) == 40_000
    # The top: the rule of succession over the results the fit puts above 0.8.
    _, _, n_top, share_top = fit.bins["all"][-1]
    assert fit.top == pytest.approx((round(share_top * n_top) + 1) / (n_top + 2))
    assert set(fit.bins) == {"all", "first sentence", "as written"}
    # Each band's share judged relevant lies inside the band, for either form: that is what calibrated means.
    for bins in fit.bins.values():
        assert all(low - 0.03 <= share <= high + 0.03 for low, high, n, share in bins if n > 500)


def test_calibration_pairs_read_each_query_whole_and_short_with_and_without_its_answers(
    tmp_path: Path,
) -> None:
    _write_beir(tmp_path / "beir")
    data = read_beir(tmp_path / "beir")
    data.queries[1]["text"] = "风力发电机叶片。需要复合材料叶片, 减轻重量"
    engine = MatchEngine.build(corpus_doc(row) for row in data.corpus)
    before = [m.id for m in engine.rank(query_doc(data.queries[0]), target_kind=Kind.ACHIEVEMENT, top_k=4)]
    pairs = calibration_pairs(data, engine, top_k=4)
    # q1 as written finds its answer d1; with d1 removed, nothing it retrieves is relevant.
    assert pairs.relevant.sum() >= 2
    assert len(pairs.scores) == len(pairs.relevant) == len(pairs.words_said) == len(pairs.forms)
    # Only q2 says more than one sentence, so only q2 is also read as its first sentence, which says less.
    short = pairs.forms == "first sentence"
    assert short.any() and pairs.words_said[short].max() < pairs.words_said[~short].max()
    assert [
        m.id for m in engine.rank(query_doc(data.queries[0]), target_kind=Kind.ACHIEVEMENT, top_k=4)
    ] == before
    assert engine.lexical.n_alive == 4


def test_eval_calibrate_command_prints_the_fit(tmp_path: Path) -> None:
    _write_beir(tmp_path / "beir")
    _register()
    result = CliRunner().invoke(app, ["eval", "calibrate", str(tmp_path / "beir"), "--top-k", "3"])
    assert result.exit_code == 0, result.output
    fit = json.loads(result.output.strip().splitlines()[-1])
    # The test suite has no encoder.
    assert set(fit) == {
        "calibration_lexical",
        "calibration_span",
        "calibration_top",
        "pairs",
        "log_loss",
        "bands",
    }
    # The fit fills the side of the pair of its mode (no encoder: the second); the other stays as configured.
    assert (
        0.8 < fit["calibration_top"][1] <= 1.0
        and fit["calibration_top"][0] == MatchConfig().calibration_top[0]
    )
    assert len(fit["calibration_lexical"]) == 4 and len(fit["calibration_span"]) == 2
    assert sum(band["results"] for band in fit["bands"]["all"]) == fit["pairs"]

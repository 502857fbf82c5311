"""Retrieval evaluation on BEIR folders: readers, pure metric functions, and a run over the engine.

The run indexes the corpus with the production ``MatchEngine`` (catalogue labels come from each corpus
document's ``metadata``) and ranks each query as a demand with no labels, as a real demand arrives.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import optimize

from .config import TOP_BAND, MatchConfig, top_of_band
from .documents import LABEL_FIELDS, Kind, MatchDoc
from .encoders import Encoder
from .engine import MatchEngine

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[tuple[str, float]]]


class Beir(NamedTuple):
    corpus: list[dict]
    queries: list[dict]
    qrels: dict[str, dict[str, int]]


class RetrievalReport(NamedTuple):
    metrics: dict[str, float]
    run: dict[str, list[tuple[str, float]]]


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def read_beir(folder: Path) -> Beir:
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return Beir(_read_jsonl(folder / "corpus.jsonl"), _read_jsonl(folder / "queries.jsonl"), qrels)


def corpus_doc(row: Mapping) -> MatchDoc:
    """A corpus document as a catalogue achievement: metadata keys named like label fields become labels."""
    metadata = row.get("metadata") or {}
    labels = {}
    for name in LABEL_FIELDS:
        value = metadata.get(name)
        if value:
            labels[name] = [value] if isinstance(value, str) else list(value)
    return MatchDoc(
        kind=Kind.ACHIEVEMENT,
        id=row["_id"],
        title=row.get("title", ""),
        text=row.get("text", ""),
        labels=labels,
    )


def query_doc(row: Mapping) -> MatchDoc:
    return MatchDoc(kind=Kind.DEMAND, id=row["_id"], title=row["text"])


# -- metrics (binary or graded relevance; linear gain, as pytrec_eval/BEIR) ---------------------------
def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries of ``run``."""
    judged = [q for q in run if q in qrels]
    if not judged:
        return {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    ranked = {q: [doc for doc, _ in run[q]] for q in judged}
    metrics = {"ndcg@10": (ndcg_at, 10), "recall@100": (recall_at, 100), "mrr@10": (mrr_at, 10)}
    return {
        name: sum(fn(ranked[q], qrels[q], k) for q in judged) / len(judged)
        for name, (fn, k) in metrics.items()
    }


def run_retrieval(
    folder: Path,
    *,
    top_k: int = 100,
    engine: MatchEngine | None = None,
    config: MatchConfig | None = None,
    encoder: Encoder | None = None,
) -> RetrievalReport:
    """Index ``folder``'s corpus with the engine (or use the one given), rank every query, score the run.

    The ranking is the service's (same engine, config and encoder); only the 匹配度 threshold is lifted,
    since the metrics read the whole top ``top_k``.
    """
    data = read_beir(folder)
    if engine is None:
        engine = MatchEngine.build((corpus_doc(row) for row in data.corpus), config=config, encoder=encoder)
    started = time.perf_counter()
    run = {}
    queries = [query_doc(row) for row in data.queries]
    ranked = engine.rank_many(
        queries, target_kind=Kind.ACHIEVEMENT, top_k=top_k, explain=False, include_weak=True
    )
    for query, matches in zip(queries, ranked, strict=True):
        run[query.id] = [(m.id, m.score) for m in matches]
    elapsed = time.perf_counter() - started
    metrics = evaluate(run, data.qrels)
    metrics["qps"] = len(queries) / elapsed if elapsed > 0 else float("inf")
    return RetrievalReport(metrics, run)


def write_run(run: Run, *, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for query_id, ranked in run.items():
            for doc_id, score in ranked:
                out.write(f"{query_id}\t{doc_id}\t{score:.6f}\n")


# -- calibration of 匹配度 (docs/matching.md) ------------------------------------------------------------
BANDS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]


class CalibrationPairs(NamedTuple):
    """One row per result read: its fused score, how many words its query says (``QueryWords.said``),
    whether a reader judged it relevant, and the form of the query ("as written", "first sentence")."""

    scores: np.ndarray
    words_said: np.ndarray
    relevant: np.ndarray
    forms: np.ndarray


class Calibration(NamedTuple):
    """P(a reader judges a record relevant) = 1 / (1 + e^-(a · s + b)), s the fused score, with
    a = a0 + a1 · ln w and b = b0 + b1 · ln w, w the words the query says held inside ``span``; and how it
    fits."""

    params: tuple[float, float, float, float]  # a0, a1, b0, b1
    span: tuple[float, float]
    pairs: int
    log_loss: float
    bins: dict[str, list[tuple[float, float, int, float]]]  # per form, and "all": P from, to, results, share
    increasing: bool  # a > 0 over the whole span: a higher fused score never means a lower 匹配度
    top: float  # calibration_top: the highest P the results above TOP_BAND support


def first_sentence(text: str) -> str:
    """A demand's first sentence (its title, in the benchmark's demands): what a short demand says."""
    return re.split(r"[。！？!?\n]", text.strip(), maxsplit=1)[0].strip()


def calibration_pairs(data: Beir, engine: MatchEngine, *, top_k: int = 20) -> CalibrationPairs:
    """The fused score of each query's ``top_k`` and whether a reader judged it relevant (unjudged: no).

    Each query is read as written and, if it says more than one sentence, as its first sentence alone:
    many demands are a title and a line, and a fused score means less for them. Each form is read with
    the catalogue as it is and with every record judged relevant to the query removed, since a real demand
    may have no answer in the catalogue while every benchmark demand has one. The engine is left as it
    was found.
    """
    documents = {row["_id"]: corpus_doc(row) for row in data.corpus}
    scores: list[float] = []
    sizes: list[float] = []
    relevant: list[bool] = []
    forms: list[str] = []
    for row in data.queries:
        grades = data.qrels.get(row["_id"], {})
        answers = [doc for doc, grade in grades.items() if grade > 0 and doc in documents]
        queries = {"as written": query_doc(row)}
        short = first_sentence(row["text"])
        if short and short != row["text"].strip():
            queries["first sentence"] = MatchDoc(kind=Kind.DEMAND, id=row["_id"], title=short)
        for removed in ([], answers):
            engine.remove(f"{Kind.ACHIEVEMENT}/{doc}" for doc in removed)
            try:
                for form, query in queries.items():
                    matches = engine.rank(query, target_kind=Kind.ACHIEVEMENT, top_k=top_k, include_weak=True)
                    size = engine.query_words(query).said
                    scores.extend(sum(m.signals.values()) for m in matches)
                    sizes.extend(size for _ in matches)
                    relevant.extend(grades.get(m.id, 0) > 0 for m in matches)
                    forms.extend(form for _ in matches)
            finally:
                engine.upsert(documents[doc] for doc in removed)
    return CalibrationPairs(np.array(scores), np.array(sizes), np.array(relevant, bool), np.array(forms))


def fit_calibration(pairs: CalibrationPairs) -> Calibration:
    """Logistic regression of ``relevant`` on the fused score, its log query size and their product
    (maximum likelihood, four parameters; a whisker of ridge keeps a tiny, separable sample finite)."""
    y = pairs.relevant.astype(float)
    positive = pairs.words_said[pairs.words_said > 0]
    span = (float(positive.min()), float(positive.max())) if positive.size else (1.0, 1.0)
    size = np.log(np.clip(pairs.words_said, *span))
    features = np.column_stack([pairs.scores, pairs.scores * size, np.ones_like(size), size])

    def loss(params: np.ndarray) -> float:
        z = features @ params
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    fitted = optimize.minimize(lambda p: loss(p) + 1e-3 * float(p @ p), np.zeros(4), method="BFGS").x
    probability = 1.0 / (1.0 + np.exp(-(features @ fitted)))
    bins = {}
    for form in ["all", *dict.fromkeys(pairs.forms.tolist())]:
        chosen = np.ones(y.size, bool) if form == "all" else pairs.forms == form
        bins[form] = []
        for low, high in BANDS:
            inside = (
                chosen
                & (probability >= low)
                & ((probability < high) if high < 1.0 else (probability <= high))
            )
            bins[form].append(
                (low, high, int(inside.sum()), float(y[inside].mean()) if inside.any() else math.nan)
            )
    a0, a1, b0, b1 = (float(v) for v in fitted)
    above = probability >= TOP_BAND  # the top band, as the bands above count it
    return Calibration(
        (a0, a1, b0, b1),
        span,
        len(y),
        loss(fitted) / max(len(y), 1),
        bins,
        increasing=all(a0 + a1 * math.log(end) > 0 for end in span),
        top=top_of_band(int(y[above].sum()), int(above.sum())),
    )

"""Match quality on the BEIR dev folders: our engine against the bench README's BM25 baseline, same run.

Run by hand: ``.venv/bin/python benchmarks/bench_match_quality.py``. Besides the two dev folders it
writes two held-out folders from the same shared data and scores them the same way, to check that the
method generalises to queries it was never looked at with (no parameter was chosen on them):
- patent-ipc-heldout: the fold-1 patents that are not dev queries, against the same corpus;
- csl-swapped: the CSL test titles as queries against the dev abstracts (the dev folder's mirror).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import bm25s
import jieba
from _common import SHARED, echo, write_result

from techbridge.match.evaluation import Beir, evaluate, read_beir, run_retrieval

BENCH = SHARED / "bench"
TMP = Path(__file__).resolve().parent / "results" / "tmp"


def bm25_baseline(data: Beir, *, top_k: int = 100) -> dict[str, float]:
    """The bench README baseline: bm25s k1=1.5 b=0.75 over jieba.lcut_for_search tokens of title + text."""
    jieba.setLogLevel(60)

    def tokens(text: str) -> list[str]:
        return [t for t in jieba.lcut_for_search(text) if t.strip()]

    corpus_tokens = [tokens(f"{c.get('title', '')} {c.get('text', '')}") for c in data.corpus]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus_tokens]
    retriever = bm25s.BM25(k1=1.5, b=0.75)
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    started = time.perf_counter()
    run = {}
    for query in data.queries:
        query_ids = [vocab[t] for t in tokens(query["text"]) if t in vocab]
        if not query_ids:
            run[query["_id"]] = []
            continue
        docs, scores = retriever.retrieve([query_ids], k=min(top_k, len(ids)), show_progress=False)
        run[query["_id"]] = [
            (data.corpus[d]["_id"], float(s)) for d, s in zip(docs[0], scores[0], strict=True)
        ]
    metrics = evaluate(run, data.qrels)
    metrics["qps"] = len(data.queries) / (time.perf_counter() - started)
    return metrics


def _write_folder(
    folder: Path, corpus: list[dict], queries: list[dict], qrels: list[tuple[str, str]]
) -> Path:
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    lines = "".join(f"{q}\t{c}\t1\n" for q, c in qrels)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + lines, "utf-8")
    return folder


def patent_heldout() -> Path:
    dev = read_beir(BENCH / "patent-ipc-dev")
    seen = {q["_id"].removeprefix("q-") for q in dev.queries}
    by_label: dict[str, list[str]] = {}
    for doc in dev.corpus:
        for label in doc["metadata"]["ipc"]:
            by_label.setdefault(label, []).append(doc["_id"])
    queries, qrels = [], []
    with (SHARED / "cn-patent-ipc-titles" / "patent_titles_ipc_subclasses.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pub = row["publication_numbers"].split("|")[0]
            if row["fold"] != "1" or pub in seen:
                continue
            relevant = {d for label in row["true_subclasses_all"].split("|") for d in by_label.get(label, [])}
            if relevant:
                queries.append({"_id": f"q-{pub}", "text": row["patent_title"]})
                qrels.extend((f"q-{pub}", d) for d in sorted(relevant))
    return _write_folder(TMP / "patent-ipc-heldout", dev.corpus, queries, qrels)


def csl_swapped() -> Path:
    with (SHARED / "csl-benchmark" / "csl_dev_test_joined.jsonl").open(encoding="utf-8") as f:
        papers = [json.loads(line) for line in f]
    corpus = [
        {
            "_id": p["id"],
            "title": "",
            "text": p["abstract"],
            "metadata": {"discipline": p["discipline"], "category": p["category"]},
        }
        for p in papers
        if p["split"] == "dev"
    ]
    queries = [{"_id": f"q-{p['id']}", "text": p["title"]} for p in papers if p["split"] == "test"]
    discipline = {p["id"]: p["discipline"] for p in papers}
    qrels = [
        (q["_id"], c["_id"])
        for q in queries
        for c in corpus
        if discipline[q["_id"][2:]] == c["metadata"]["discipline"]
    ]
    return _write_folder(TMP / "csl-swapped", corpus, queries, qrels)


def main() -> None:
    folders = {
        "patent-ipc-dev": BENCH / "patent-ipc-dev",
        "csl-title2discipline-dev": BENCH / "csl-title2discipline-dev",
        "patent-ipc-heldout": patent_heldout(),
        "csl-swapped": csl_swapped(),
    }
    results = {}
    for name, folder in folders.items():
        baseline = bm25_baseline(read_beir(folder))
        engine = run_retrieval(folder).metrics
        ratio = engine["ndcg@10"] / baseline["ndcg@10"]
        results[name] = {"bm25_baseline": baseline, "techbridge": engine, "ndcg@10_ratio": ratio}
        echo(
            f"{name:28s} nDCG@10 {engine['ndcg@10']:.3f} vs BM25 {baseline['ndcg@10']:.3f} (×{ratio:.2f}); "
            f"R@100 {engine['recall@100']:.3f} vs {baseline['recall@100']:.3f}; "
            f"MRR@10 {engine['mrr@10']:.3f} vs {baseline['mrr@10']:.3f}"
        )
    echo("written", write_result("match-quality", results))


if __name__ == "__main__":
    main()

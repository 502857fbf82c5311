"""A catalogue of 20,000 records and a few hundred queries from the real data in shared/data.

The 11,740 records of bench/demand-knownitem-dev (patents with IPC subclasses, papers with their abstract
and discipline) as they are, then real patent titles each paired with a real abstract sentence until the
catalogue holds 20,000; the queries are the bench's real demands and patent titles, and some catalogue
records matched as sources (they carry labels and must not match themselves).
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

from techbridge.match import Filters, Kind, MatchDoc

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
ZONES = ["wuxi", "chengdu", "hefei", "xian", "suzhou"]


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def catalogue(size: int = 20_000, *, seed: int = 5) -> list[MatchDoc]:
    rng = random.Random(seed)
    records = _jsonl(DATA / "bench" / "demand-knownitem-dev" / "corpus.jsonl")
    docs = [
        MatchDoc(
            kind=Kind.ACHIEVEMENT,
            id=str(i),
            title=r["title"],
            text=r["text"],
            labels={name: r["metadata"][name] for name in ("ipc", "discipline") if name in r["metadata"]},
            zone_code=rng.choice(ZONES),
            is_shared=rng.random() < 0.3,
            trl=rng.randint(1, 9),
        )
        for i, r in enumerate(records[:size])
    ]
    sentences = [s for r in records if r["text"] for s in re.split(r"(?<=[。；;])", r["text"]) if len(s) > 8]
    with (DATA / "cn-patent-ipc-titles" / "patent_titles_ipc_subclasses.csv").open(encoding="utf-8") as f:
        patents = [(row["patent_title"], row["true_subclasses_all"].split("|")) for row in csv.DictReader(f)]
    while len(docs) < size:
        title, ipc = rng.choice(patents)
        docs.append(
            MatchDoc(
                kind=Kind.ACHIEVEMENT,
                id=str(len(docs)),
                title=title,
                text=rng.choice(sentences),
                labels={"ipc": ipc},
                zone_code=rng.choice(ZONES),
                is_shared=rng.random() < 0.3,
                trl=rng.randint(1, 9),
            )
        )
    return docs


def queries(docs: list[MatchDoc], *, seed: int = 9) -> list[tuple[MatchDoc, Filters]]:
    """Real demands (zone-filtered or not), patent titles as demands, and catalogue records as sources."""
    rng = random.Random(seed)
    demands = [q["text"] for q in _jsonl(DATA / "bench" / "demand-knownitem-dev" / "queries.jsonl")]
    titles = [q["text"] for q in _jsonl(DATA / "bench" / "patent-ipc-dev" / "queries.jsonl")]
    out = []
    for i, text in enumerate(demands + rng.sample(titles, 60)):
        title, _, body = text.partition("。")
        zone = rng.choice(ZONES)
        doc = MatchDoc(kind=Kind.DEMAND, id=f"d{i}", title=title, text=body, zone_code=zone)
        out.append((doc, Filters(zone=zone) if i % 2 else Filters()))
    for doc in rng.sample(docs, 30):
        out.append((doc, Filters(zone=doc.zone_code)))
    return out

"""Helpers shared by the benchmark scripts: real data from ../shared/data, synthesis, timing, results."""

from __future__ import annotations

import csv
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from techbridge.match import Kind, MatchDoc

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def source_at(rev: str, dest: Path) -> Path:
    """The package source of commit ``rev`` (``git archive``) under ``dest``: a baseline measured in
    the same run, put first on PYTHONPATH."""
    archive = subprocess.check_output(["git", "-C", str(ROOT), "archive", rev, "src"])
    shutil.rmtree(dest, ignore_errors=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-{name}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished workers (robust to a busy machine)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory of this process and of its (finished) worker processes, in MiB."""
    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


class RealText:
    """Real titles with their catalogue labels, and real abstract sentences, to recombine."""

    def __init__(self) -> None:
        self.titles: list[tuple[str, dict[str, list[str]]]] = []
        with (SHARED / "cn-patent-ipc-titles" / "patent_titles_ipc_subclasses.csv").open(
            encoding="utf-8"
        ) as f:
            for row in csv.DictReader(f):
                self.titles.append((row["patent_title"], {"ipc": row["true_subclasses_all"].split("|")}))
        self.sentences: list[str] = []
        with (SHARED / "csl-benchmark" / "csl_dev_test_joined.jsonl").open(encoding="utf-8") as f:
            for line in f:
                paper = json.loads(line)
                self.titles.append((paper["title"], {"discipline": [paper["discipline"]]}))
                self.sentences.extend(s for s in re.split(r"(?<=[。.;；])", paper["abstract"]) if len(s) > 8)
        with (SHARED / "hitech_zones" / "zones.csv").open(encoding="utf-8") as f:
            self.zones = [row["catalog_code"].lower() for row in csv.DictReader(f)]

    def achievements(self, n: int, *, seed: int = 7, prefix: str = "a") -> Iterator[MatchDoc]:
        """``n`` distinct achievements: a real title and two real abstract sentences, no triple twice."""
        rng = random.Random(seed)
        seen: set[tuple[int, int, int]] = set()
        while len(seen) < n:
            combo = (
                rng.randrange(len(self.titles)),
                rng.randrange(len(self.sentences)),
                rng.randrange(len(self.sentences)),
            )
            if combo in seen:
                continue
            seen.add(combo)
            title, labels = self.titles[combo[0]]
            yield MatchDoc(
                kind=Kind.ACHIEVEMENT,
                id=f"{prefix}{len(seen)}",
                title=title,
                text=self.sentences[combo[1]] + self.sentences[combo[2]],
                zone_code=rng.choice(self.zones),
                is_shared=rng.random() < 0.3,
                labels=labels,
                trl=rng.randint(1, 9),
            )

    def demands(self, n: int, *, seed: int = 11) -> list[MatchDoc]:
        """Demands: a real title and one sentence, with no catalogue labels, as enterprises write them."""
        rng = random.Random(seed)
        picks = rng.sample(range(len(self.titles)), n)
        return [
            MatchDoc(
                kind=Kind.DEMAND,
                id=f"d{i}",
                title=self.titles[t][0],
                text=rng.choice(self.sentences),
                zone_code=rng.choice(self.zones),
            )
            for i, t in enumerate(picks)
        ]


def echo(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)  # noqa: T201

"""Load the shipped demo data set: real patents and papers, sample demands and capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..ingest.importer import ImportReport, import_file
from ..store.db import init_db

SAMPLE_NOTICE = "演示数据: 专利与论文为真实公开数据; 需求、专家、仪器、中试平台及所有“示例”机构为示例数据, 非真实信息。"

# (kind, file): demands before achievements so the first matching run has both sides.
DEMO_FILES = (
    ("demand", "demands.xlsx"),
    ("achievement", "achievements_patents.csv"),
    ("achievement", "achievements_papers.jsonl"),
    ("expert", "experts.csv"),
    ("instrument", "instruments.csv"),
    ("pilot_platform", "pilot_platforms.csv"),
)
DEMO_ZONES = (
    ("wuxi", "无锡高新技术产业开发区"),
    ("chengdu", "成都高新技术产业开发区"),
    ("xian", "西安高新技术产业开发区"),
)


@dataclass(frozen=True)
class DemoLoad:
    reports: list[ImportReport]


def demo_dir() -> Path:
    return Path(str(resources.files("techbridge") / "data" / "demo"))


def load_demo(url: str, *, progress: bool = False) -> DemoLoad:
    """Create the schema and import every demo file (idempotent: loading twice changes nothing)."""
    init_db(url)
    reports = [
        import_file(url, kind, demo_dir() / name, zone_code=DEMO_ZONES[0][0], progress=progress)
        for kind, name in DEMO_FILES
    ]
    return DemoLoad(reports=reports)

"""Docs that run: every curl example in README's REST API section and in docs/api.md, executed by bash
against the demo data served on a local port, exactly as written (only the host and port are this test's).

Each ``curl`` runs with ``--fail-with-body`` (an HTTP error fails the example) under ``set -euo pipefail``.
The demo accounts table in both files is generated from ``services.demo.DEMO_ACCOUNTS``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services.demo import (
    DEMO_ACCOUNTS,
    SAMPLE_NOTICE,
    accounts_markdown,
    load_demo,
    with_accounts_doc,
)
from techbridge.store.db import session_scope
from techbridge.store.site_flags import DEMO_NOTICE, get_flag

from .live import serve

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "docs" / "api.md")
DOC_HOST = "http://127.0.0.1:8000"
REQUIRE_ALL = os.environ.get("TECHBRIDGE_TEST_REQUIRE_ALL") == "1"


def curl_blocks(path: Path) -> list[str]:
    """The ```bash blocks of a file that call the API with curl."""
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if "curl " in b]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_demo_accounts_in_the_docs_come_from_the_code(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert with_accounts_doc(text) == text, "stale: run .venv/bin/python scripts/demo_accounts_doc.py"
    assert accounts_markdown() in text
    for username, *_ in DEMO_ACCOUNTS:
        assert f"`{username}`" in text
    assert "wuxi_corp" not in text


@pytest.fixture
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo data (real batch matching, sample deals) served by uvicorn on a free local port."""

    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    settings = Settings(database_url=url, data_dir=folder, secret_key="docs-run-secret")
    load_demo(url, settings=settings)
    with session_scope(url) as session:
        assert get_flag(session, DEMO_NOTICE) == SAMPLE_NOTICE  # every page of the demo says 示例数据
    with serve(create_app(settings)) as url:
        yield url


def _demand_workbook(path: Path) -> None:
    """The reader's own ``需求.xlsx`` that the import examples upload."""
    book = Workbook()
    sheet = book.active
    sheet.append(["需求名称", "需求单位", "产业链", "关键词"])
    sheet.append(["动力电池隔膜在线检测", "示例企业01(wuxi)", "新能源", "隔膜;检测"])
    book.save(path)


@pytest.mark.slow
def test_every_curl_example_runs_against_the_demo(demo_server: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        if REQUIRE_ALL:
            pytest.fail("curl and bash are required to run the docs' examples")
        pytest.skip("curl not installed")
    _demand_workbook(tmp_path / "需求.xlsx")
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body --show-error "$@"; echo; }\n'
    for doc in DOCS:
        blocks = curl_blocks(doc)
        assert blocks, f"{doc.name} has no curl examples"
        script = prelude + "\n".join(blocks).replace(DOC_HOST, demo_server)
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, (
            f"{doc.name}: example failed\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        # The search found the demo's 隔膜 demands (a raw UTF-8 URL would have been refused instead).
        assert re.search(r'"count":\s*[1-9]', done.stdout), done.stdout[:500]
        assert "已撮合" in done.stdout or '"stage":"matched"' in done.stdout
    assert (tmp_path / "achievements.xlsx").stat().st_size > 1000

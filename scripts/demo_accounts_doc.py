"""Rewrite the demo-accounts table in README.md and docs/api.md from ``services.demo.DEMO_ACCOUNTS``.

Usage: .venv/bin/python scripts/demo_accounts_doc.py   (tests/test_docs_run.py fails while they differ)
"""

from __future__ import annotations

from pathlib import Path

from techbridge.services.demo import with_accounts_doc

ROOT = Path(__file__).resolve().parent.parent
FILES = (ROOT / "README.md", ROOT / "docs" / "api.md")

if __name__ == "__main__":
    for path in FILES:
        path.write_text(with_accounts_doc(path.read_text(encoding="utf-8")), encoding="utf-8")

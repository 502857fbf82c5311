"""Regenerate docs/screenshots/*.png from the seeded test app in headless Chromium.

Usage: .venv/bin/python scripts/screenshots.py   (needs Debian's chromium, or TECHBRIDGE_CHROMIUM)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    os.environ["TECHBRIDGE_SCREENSHOT_DIR"] = str(ROOT / "docs" / "screenshots")
    sys.exit(
        pytest.main([str(ROOT / "tests" / "web" / "test_screenshots.py"), "-q", "-p", "no:cacheprovider"])
    )

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
    tests = ROOT / "tests" / "web"
    # The main pages on the demo data, then the layouts at 390, 1366 and 1920 px (<page>-<width>.png).
    shots = [str(tests / "test_screenshots.py"), str(tests / "test_layouts.py")]
    sys.exit(pytest.main([*shots, "-q", "-p", "no:cacheprovider"]))

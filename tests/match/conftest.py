from __future__ import annotations

import pytest

from techbridge.match import MatchDoc

from .catalogue import BATTERY, SOFTWARE, achievement


@pytest.fixture
def catalogue() -> list[MatchDoc]:
    """Ten patents in two IPC subclasses: batteries (H01M) and data processing (G06F)."""
    docs = [achievement(f"h{i}", t, labels={"ipc": ["H01M"]}) for i, t in enumerate(BATTERY)]
    docs += [achievement(f"g{i}", t, labels={"ipc": ["G06F"]}) for i, t in enumerate(SOFTWARE)]
    return docs

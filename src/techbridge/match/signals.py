"""Structured signals: per-position scores in [0, 1] from the fields a record declares.

A plain registry (name → function), as the style guide asks, so a new signal is one function and one weight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .documents import MatchDoc

Columns = Mapping[str, np.ndarray]
Signal = Callable[[Columns, MatchDoc, int], np.ndarray]


def same_zone(columns: Columns, query: MatchDoc, zone_id: int) -> np.ndarray:
    """1 for records of the query's own zone: closer partners are easier to bring to a deal."""
    return (columns["zone"] == zone_id).astype(np.float32)


def maturity(columns: Columns, query: MatchDoc, zone_id: int) -> np.ndarray:
    """TRL / 9; unknown maturity earns nothing rather than a guess."""
    return columns["trl"].astype(np.float32) / 9.0


def availability(columns: Columns, query: MatchDoc, zone_id: int) -> np.ndarray:
    """1 when the record can be acted on now: instrument bookable, demand open, expert has a free slot."""
    return columns["available"].astype(np.float32)


def capacity(columns: Columns, query: MatchDoc, zone_id: int) -> np.ndarray:
    """Share of an expert's deal slots still free (workload); 0 for records without the notion."""
    return np.nan_to_num(columns["capacity"], nan=0.0)


SIGNALS: dict[str, Signal] = {
    "zone": same_zone,
    "maturity": maturity,
    "availability": availability,
    "capacity": capacity,
}

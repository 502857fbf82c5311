"""Filters restrict the candidates before ranking; none of them changes a score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True)
class Filters:
    """Candidate restrictions.

    ``zone`` is the viewer's zone: its own records plus records other zones share (zone isolation).
    ``chains`` keeps records of any of these industry chains; ``max_price`` drops records priced above
    it (records without a price stay); dates bound the record's date (deadline for demands).
    """

    zone: str | None = None
    chains: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    max_price: float | None = None
    available_only: bool = False

    def mask(
        self, columns: Mapping[str, np.ndarray], *, zone_id: int, chain_ids: np.ndarray | None
    ) -> np.ndarray:
        keep = np.ones(columns["zone"].size, bool)
        if self.zone is not None:
            keep &= (columns["zone"] == zone_id) | columns["shared"]
        if self.chains:
            keep &= chain_ids if chain_ids is not None else False
        day = columns["date"]
        if self.date_from is not None:
            keep &= day >= self.date_from.toordinal()
        if self.date_to is not None:
            keep &= (day <= self.date_to.toordinal()) & (day > 0)
        if self.max_price is not None:
            keep &= ~(columns["price"] > self.max_price)
        if self.available_only:
            keep &= columns["available"]
        return keep

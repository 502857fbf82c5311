"""Calls into services that other branches own, kept behind one small seam each.

The pages work without them (showing stored results and a clear message) and pick them up by import
as soon as the module exists, so no page changes when the service lands.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

from ..domain.accounts import User


def _service(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"techbridge.services.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"techbridge.services.{name}":
            raise
        return None


def matching_available() -> bool:
    return _service("matching") is not None


def run_matching(url: str, *, kind: str, record_id: int, viewer: User) -> bool:
    """Recompute and store the matches of one record; False when the matching service is absent."""
    service = _service("matching")
    if service is None:
        return False
    service.match_record(url, kind=kind, record_id=record_id, scope=viewer.scope)
    return True


def deals_available() -> bool:
    return _service("deals") is not None


def start_deal(
    url: str, *, demand_id: int, resources: Sequence[tuple[str, int]], viewer: User, note: str = ""
) -> int | None:
    """Open a deal for a demand and the chosen resources; the new deal's id, or None without the service."""
    service = _service("deals")
    if service is None:
        return None
    deal = service.start_deal(
        url,
        resources=list(resources),
        actor=viewer.username,
        scope=viewer.scope,
        demand_id=demand_id,
        note=note,
    )
    return int(deal.id)

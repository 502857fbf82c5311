"""The industry-chain catalogue: a shipped default list that each zone may extend or rename.

Defaults live in ``data/industry_chains.csv`` (not in the database) so a new release can improve them;
a zone's own rows override a default with the same code.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..domain.records import IndustryChain
from ..errors import NotFound
from .tables import IndustryChainRow


@lru_cache(maxsize=1)
def default_chains() -> tuple[IndustryChain, ...]:
    text = (resources.files("techbridge") / "data" / "industry_chains.csv").read_text(encoding="utf-8")
    return tuple(IndustryChain.model_validate(row) for row in csv.DictReader(text.splitlines()))


def list_chains(session: Session, *, zone_code: str | None) -> list[IndustryChain]:
    """The catalogue as a zone sees it: defaults, overridden and extended by the zone's own entries."""
    chains = {c.code: c for c in default_chains()}
    if zone_code:
        stmt = (
            select(IndustryChainRow)
            .where(IndustryChainRow.zone_code == zone_code)
            .order_by(IndustryChainRow.id)
        )
        for row in session.scalars(stmt):
            chains[row.code] = IndustryChain(
                code=row.code, name=row.name, keywords=row.keywords, zone_code=zone_code
            )
    return list(chains.values())


def save_chain(session: Session, chain: IndustryChain) -> IndustryChain:
    """Add or rename a zone's chain (``chain.zone_code`` must name the zone)."""
    if not chain.zone_code:
        raise ValueError("园区自定义产业链必须指定园区")
    row = session.scalar(
        select(IndustryChainRow).where(
            IndustryChainRow.zone_code == chain.zone_code, IndustryChainRow.code == chain.code
        )
    )
    if row is None:
        row = IndustryChainRow(code=chain.code, zone_code=chain.zone_code)
        session.add(row)
    row.name = chain.name
    row.keywords = chain.keywords
    session.flush()
    return chain


def remove_chain(session: Session, *, zone_code: str, code: str) -> None:
    """Drop a zone's own entry (a default with that code shows again)."""
    result = session.execute(
        delete(IndustryChainRow).where(IndustryChainRow.zone_code == zone_code, IndustryChainRow.code == code)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("产业链", code)

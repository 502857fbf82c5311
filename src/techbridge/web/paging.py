"""Page-number links for list pages: first, last and a window around the current page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pager:
    page: int
    page_count: int
    total: int
    pages: list[tuple[int, str | None]]
    prev_url: str | None
    next_url: str | None


def make_pager(
    *, page: int, per_page: int, total: int, url_for: Callable[[int], str], window: int = 2
) -> Pager:
    """``pages`` holds (number, url) pairs; a ``None`` url marks a gap (…)."""
    count = max(1, -(-total // per_page))
    page = min(max(page, 1), count)
    wanted = sorted({1, count, *range(max(1, page - window), min(count, page + window) + 1)})
    pages: list[tuple[int, str | None]] = []
    for number in wanted:
        if pages and number - pages[-1][0] > 1:
            pages.append((0, None))
        pages.append((number, url_for(number)))
    return Pager(
        page=page,
        page_count=count,
        total=total,
        pages=pages,
        prev_url=url_for(page - 1) if page > 1 else None,
        next_url=url_for(page + 1) if page < count else None,
    )

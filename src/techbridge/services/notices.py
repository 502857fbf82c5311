"""The one door through which bookings and deals tell people something happened.

The 站内信 service (``services.notifications``) delivers the message; bookings and deal work only know
this function, so how a notice is delivered changes here, not in every use case.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from . import notifications


def send(session: Session, *, user_ids: Sequence[int], kind: str, title: str, body: str, link: str) -> None:
    """Notify these accounts inside the caller's transaction (a rolled-back booking sends nothing)."""
    if not user_ids:
        return
    # notify(session, user_ids, kind, title, link) takes one line, so the body joins the title.
    notifications.notify(
        session, list(dict.fromkeys(user_ids)), kind, f"{title} ({body})" if body else title, link
    )

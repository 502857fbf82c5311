"""The one door through which bookings and deals tell people something happened.

The 站内信 service (``services.notifications``, built on another branch) delivers the message; until it is
installed, ``send`` has nowhere to deliver and does nothing. Pointing this at the real service is a
one-line change here, not in every use case.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence

from sqlalchemy.orm import Session

NOTIFICATIONS_MODULE = "techbridge.services.notifications"


def send(session: Session, *, user_ids: Sequence[int], kind: str, title: str, body: str, link: str) -> None:
    """Notify these accounts inside the caller's transaction (a rolled-back booking sends nothing)."""
    if not user_ids or importlib.util.find_spec(NOTIFICATIONS_MODULE) is None:
        return
    notifications = importlib.import_module(NOTIFICATIONS_MODULE)
    # notify(session, user_ids, kind, title, link) as on branch daily-jobs: one line, so the body joins it.
    notifications.notify(
        session, list(dict.fromkeys(user_ids)), kind, f"{title} ({body})" if body else title, link
    )

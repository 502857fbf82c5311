"""What a match result says to the person reading it: reasons relative to the viewer's own zone, and
whether the 发起对接 button would be allowed for them."""

from __future__ import annotations

from ...domain.accounts import OWNER_FIELDS, User
from ...domain.deal_rules import can_start_deal
from ...services.records import MatchView
from ...store.records import StoredRecord, kind_of


def viewer_reason(
    reason: tuple[str, str, list[str]], match: MatchView, viewer: User, zones: dict[str, str]
) -> tuple[str, str, list[str]]:
    """The engine writes the zone reason from the demand's side (本园区 = the demand's zone); a reader
    from another zone needs it from theirs, with the zone's name rather than its code."""
    code, _text, terms = reason
    if code != "zone":
        return reason
    if viewer.zone_code is not None and match.target_zone == viewer.zone_code:
        return code, "本园区资源", terms
    name = zones.get(match.target_zone, match.target_zone)
    if viewer.zone_code is None:
        return code, f"{name}资源" + (" (跨园区共享)" if match.is_cross_zone else ""), terms
    return code, f"跨园区共享资源 (来自{name})", terms


def may_start_deal(viewer: User, source: StoredRecord, match: MatchView) -> bool:
    """Whether this viewer may start a deal between the record and this match (the button shows then)."""
    record = source.record
    if match.target_kind == "demand":  # an achievement offered to a demand
        return can_start_deal(
            viewer,
            demand_zone=match.target_zone,
            demand_org=match.target_owner,
            resource_owners=[getattr(record, OWNER_FIELDS[kind_of(record)], None)],
        )
    return can_start_deal(
        viewer,
        demand_zone=record.zone_code,
        demand_org=getattr(record, "organization", None),
        resource_owners=[match.target_owner],
    )
